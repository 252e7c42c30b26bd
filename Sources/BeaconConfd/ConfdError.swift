// SPDX-License-Identifier: Apache-2.0

/// The error thrown by `BeaconConfd`: a resource file, a template, a rendering or a file operation that failed.
///
/// Every error carries a ``Code`` to switch on, a sentence saying what is wrong, and where: the file with its line
/// and column, or the discovery key. Nothing on the running system has changed when one of these is thrown by
/// rendering or staging; a failed check leaves the destination as it was.
///
/// ```swift
/// do {
///     _ = try TemplateResource(contentsOf: "/etc/confd/conf.d/nginx.toml", templateDirectory: "/etc/confd/templates")
/// } catch let error as ConfdError where error.code == .malformedResource {
///     print(error)  // malformed resource: /etc/confd/conf.d/nginx.toml:3:7: expected …
/// }
/// ```
public struct ConfdError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes.
    ///
    /// A struct rather than an enum so that new codes can be added without breaking exhaustive `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedResource
            case unreadableFile
            case invalidTemplate
            case goTemplate
            case missingKey
            case invalidValue
            case unwritableDestination
            case checkFailed
            case reloadFailed
            case invalidConfiguration
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A template resource file is not valid TOML, or its `[template]` table is incomplete or mistyped.
        public static let malformedResource = Code(.malformedResource)
        /// A resource file or a template could not be read.
        public static let unreadableFile = Code(.unreadableFile)
        /// A template is not valid Mustache; ``ConfdError/line`` and ``ConfdError/column`` say where.
        public static let invalidTemplate = Code(.invalidTemplate)
        /// A template is still written in confd's Go template syntax.
        public static let goTemplate = Code(.goTemplate)
        /// A template read a key that does not exist and did not mark it optional.
        public static let missingKey = Code(.missingKey)
        /// A discovered value could not be used as the template asked (not JSON, not a service instance).
        public static let invalidValue = Code(.invalidValue)
        /// The destination, or the directory it is staged in, cannot be written; ``ConfdError/file`` names it.
        public static let unwritableDestination = Code(.unwritableDestination)
        /// The resource's `check_cmd` rejected the new file; the destination was left as it was.
        public static let checkFailed = Code(.checkFailed)
        /// The resource's `reload_cmd` failed after the destination was replaced.
        public static let reloadFailed = Code(.reloadFailed)
        /// The options given to beacon-confd cannot work together, or name something that does not exist.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        /// The code's name, for example `missingKey`.
        public var description: String { self.base.rawValue }

        /// The words an error message starts with, for example `missing key`.
        var summary: String {
            switch self.base {
            case .malformedResource: "malformed resource"
            case .unreadableFile: "unreadable file"
            case .invalidTemplate: "invalid template"
            case .goTemplate: "Go template"
            case .missingKey: "missing key"
            case .invalidValue: "invalid value"
            case .unwritableDestination: "unwritable destination"
            case .checkFailed: "check failed"
            case .reloadFailed: "reload failed"
            case .invalidConfiguration: "invalid configuration"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong, without the file or key (those are separate properties).
    public var message: String
    /// The file involved (a resource, a template, a destination), if any.
    public var file: String?
    /// The 1-based line in ``file``, if known.
    public var line: Int?
    /// The 1-based column in ``line``, if known.
    public var column: Int?
    /// The discovery key involved, if any.
    public var key: String?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconConfd/Confd.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A sentence saying what is wrong.
    ///   - file: The file involved.
    ///   - line: The 1-based line in `file`.
    ///   - column: The 1-based column in `line`.
    ///   - key: The discovery key involved.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        file: String? = nil,
        line: Int? = nil,
        column: Int? = nil,
        key: String? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// `summary: file:line:column: message (key /a/b)`, for example
    /// `missing key: templates/nginx.conf.tmpl: the template reads /test/apache-8003, which does not exist`.
    public var description: String {
        var text = self.code.summary + ": "
        if let file = self.file {
            text += file
            if let line = self.line {
                text += ":\(line)"
                if let column = self.column { text += ":\(column)" }
            }
            text += ": "
        }
        text += self.message
        return text
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "ConfdError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }
}
