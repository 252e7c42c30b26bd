// SPDX-License-Identifier: Apache-2.0

/// The error thrown by the `Beacon` module and its in-process sources.
///
/// Every error carries a ``Code`` to switch on, a human-readable ``message``, and the key, text or file
/// involved, so that a log line alone says what went wrong and where. Errors never carry secrets: a
/// source that handles passwords or tokens masks them before it builds a `BeaconError`.
///
/// ```swift
/// do {
///     _ = try Endpoint(parsing: "db.internal:54321x")
/// } catch let error as BeaconError where error.code == .invalidEndpoint {
///     print(error)  // invalid endpoint "db.internal:54321x": port "54321x" is not a number
/// }
/// ```
public struct BeaconError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes.
    ///
    /// A struct rather than an enum so that new codes can be added without breaking exhaustive `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidEndpoint
            case invalidValue
            case malformedFile
            case unreadableFile
            case invalidKey
            case notFound
            case unavailable
            case registrationFailed
            case unsupportedFormat
            case unsupportedLocation
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A text could not be parsed as an ``Endpoint``.
        public static let invalidEndpoint = Code(.invalidEndpoint)
        /// A discovered value could not be interpreted (wrong format, wrong type).
        public static let invalidValue = Code(.invalidValue)
        /// A JSON or YAML file is not well formed; ``BeaconError/file`` and ``BeaconError/line`` say where.
        public static let malformedFile = Code(.malformedFile)
        /// A file could not be read (missing, no permission).
        public static let unreadableFile = Code(.unreadableFile)
        /// A key is not valid for the source it was given to.
        public static let invalidKey = Code(.invalidKey)
        /// A key that was required is absent.
        public static let notFound = Code(.notFound)
        /// A discovery backend could not be reached.
        public static let unavailable = Code(.unavailable)
        /// A service instance could not be registered, or its registration was lost.
        public static let registrationFailed = Code(.registrationFailed)
        /// A file is in a format this build cannot read: YAML when the package's `YAML` trait is disabled.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// A location was given to a source or a consumer that cannot read it: a service
        /// (``DiscoveryLocation/service(_:)``) on a source that is not a ``ServiceRegistry``.
        public static let unsupportedLocation = Code(.unsupportedLocation)

        /// The code's name, for example `invalidEndpoint`.
        public var description: String { self.base.rawValue }

        /// The words an error message starts with, for example `invalid endpoint`.
        var summary: String {
            switch self.base {
            case .invalidEndpoint: "invalid endpoint"
            case .invalidValue: "invalid value"
            case .malformedFile: "malformed file"
            case .unreadableFile: "unreadable file"
            case .invalidKey: "invalid key"
            case .notFound: "not found"
            case .unavailable: "unavailable"
            case .registrationFailed: "registration failed"
            case .unsupportedFormat: "unsupported format of file"
            case .unsupportedLocation: "unsupported location"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong, without the key, text or file (those are separate properties).
    public var message: String
    /// The discovery key involved, if any.
    public var key: String?
    /// The offending text (a value or an endpoint), if any. Never a secret.
    public var text: String?
    /// The file involved, if any.
    public var file: String?
    /// The 1-based line in ``file`` where the problem was found, if known.
    public var line: Int?
    /// The 1-based column in ``file`` where the problem was found, if known.
    public var column: Int?
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `Beacon/FileSource.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A sentence saying what is wrong.
    ///   - key: The discovery key involved.
    ///   - text: The offending text; pass a masked value if it may hold a secret.
    ///   - file: The file involved.
    ///   - line: The 1-based line in `file`.
    ///   - column: The 1-based column in `file`.
    ///   - underlying: The error that caused this one.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        key: String? = nil,
        text: String? = nil,
        file: String? = nil,
        line: Int? = nil,
        column: Int? = nil,
        underlying: (any Error & Sendable)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.key = key
        self.text = text
        self.file = file
        self.line = line
        self.column = column
        self.underlying = underlying
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// A one-line summary: what, where, and why, such as
    /// `invalid value "host:abc" at key "/db/main/endpoint": port "abc" is not a number`.
    public var description: String {
        var result = self.code.summary
        if let text = self.text { result += " \(Self.quoted(text))" }
        if let key = self.key { result += " at key \(Self.quoted(key))" }
        if let file = self.file {
            let namesFile =
                self.code == .malformedFile || self.code == .unreadableFile || self.code == .unsupportedFormat
            result += namesFile ? " \(file)" : " in file \(file)"
            if let line = self.line {
                result += " at line \(line)"
                if let column = self.column { result += ", column \(column)" }
            }
        }
        result += ": " + self.message
        if let underlying = self.underlying {
            result += " (\(underlying))"
        }
        return result
    }

    /// The summary followed by the code and where the error was thrown.
    public var debugDescription: String {
        "BeaconError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }

    /// Quotes a text for an error message, escaping quotes and control characters.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
