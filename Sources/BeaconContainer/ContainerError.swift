// SPDX-License-Identifier: Apache-2.0

/// An error raised while defining, building or resolving services.
///
/// Messages name services, parameters, environment variables, files and lines, never the values of
/// parameters or environment variables (they may be secrets). Where Symfony's dependency-injection
/// component has a message for the same failure, the text is Symfony's.
public struct ContainerError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case serviceNotFound
            case parameterNotFound
            case environmentNotFound
            case environmentProcessing
            case factoryNotFound
            case circularReference
            case invalidExpression
            case invalidDefinition
            case invalidYAML
            case fileNotFound
            case typeMismatch
            case notRefreshable
            case resolutionFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A service id that is not defined (Symfony's `ServiceNotFoundException`).
        public static let serviceNotFound = Code(.serviceNotFound)
        /// A parameter name that is not defined (Symfony's `ParameterNotFoundException`).
        public static let parameterNotFound = Code(.parameterNotFound)
        /// An environment variable that is not set (Symfony's `EnvNotFoundException`).
        public static let environmentNotFound = Code(.environmentNotFound)
        /// An environment variable that a processor (`int:`, `json:`...) cannot convert.
        public static let environmentProcessing = Code(.environmentProcessing)
        /// A YAML `class:` naming a factory that was not registered in code.
        public static let factoryNotFound = Code(.factoryNotFound)
        /// Services or parameters that depend on themselves; the message names the path.
        public static let circularReference = Code(.circularReference)
        /// An `@=` expression that does not parse.
        public static let invalidExpression = Code(.invalidExpression)
        /// A definition that is malformed (unknown key, wrong shape, bad argument syntax).
        public static let invalidDefinition = Code(.invalidDefinition)
        /// A YAML file that is not well-formed.
        public static let invalidYAML = Code(.invalidYAML)
        /// A YAML file (or an imported one) that cannot be read.
        public static let fileNotFound = Code(.fileNotFound)
        /// A service that is not of the type it was asked for.
        public static let typeMismatch = Code(.typeMismatch)
        /// `invalidate` or a change signal for a service that is not refreshable.
        public static let notRefreshable = Code(.notRefreshable)
        /// A service factory, or an expression evaluated for an argument, failed; see ``ContainerError/underlying``.
        public static let resolutionFailed = Code(.resolutionFailed)

        /// The code's name, such as `serviceNotFound`.
        public var description: String { base.rawValue }
    }

    /// Where in a YAML file a definition comes from.
    struct Location: Sendable, Hashable, CustomStringConvertible {
        /// The file, as it was given to the loader.
        let file: String
        /// The line, starting at 1.
        let line: Int

        /// `file:line`.
        var description: String { "\(file):\(line)" }
    }

    /// The kind of error.
    public let code: Code
    /// What went wrong, with the file and line when known.
    public let message: String
    /// The YAML file the definition comes from, as it was given to the loader, when it comes from a file.
    public let file: String?
    /// The 1-based line in ``file`` where the definition is, when known.
    public let line: Int?
    /// The error this one wraps (an `ExpressionError` for a malformed expression, a factory's error).
    public let underlying: (any Error)?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconContainer/ContainerBuilder+Build.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private let fileID: String
    private let sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of error.
    ///   - message: The complete message.
    ///   - file: The YAML file, if any.
    ///   - line: The 1-based line in `file`, if known.
    ///   - underlying: The wrapped error, if any.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        file: String? = nil,
        line: Int? = nil,
        underlying: (any Error)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.underlying = underlying
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// Creates an error at a definition's place in YAML.
    init(
        _ code: Code,
        _ message: String,
        location: Location?,
        underlying: (any Error)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.init(
            code,
            message,
            file: location?.file,
            line: location?.line,
            underlying: underlying,
            fileID: fileID,
            sourceLine: sourceLine
        )
    }

    /// The code and the message.
    public var description: String { "\(code): \(message)" }

    /// The description followed by where the error was thrown.
    public var debugDescription: String {
        "ContainerError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }
}

extension ContainerError {
    /// ` (file:line)` or the empty string.
    static func at(_ location: Location?) -> String {
        location.map { " (\($0))" } ?? ""
    }

    /// Symfony's `ServiceNotFoundException` text with its suggestions.
    static func serviceNotFound(_ id: String, candidates: [String]) -> ContainerError {
        ContainerError(
            .serviceNotFound,
            "You have requested a non-existent service \"\(id)\"." + alternatives(id, among: candidates)
        )
    }

    /// Symfony's `ParameterNotFoundException` text with its suggestions.
    static func parameterNotFound(_ name: String, candidates: [String], nestedArray: String?) -> ContainerError {
        var message = "You have requested a non-existent parameter \"\(name)\"."
        let suggestions = alternatives(name, among: candidates)
        if !suggestions.isEmpty {
            message += suggestions
        } else if let nestedArray {
            message +=
                " You cannot access nested array items, do you want to inspect the array parameter \"\(nestedArray)\"?"
        }
        return ContainerError(.parameterNotFound, message)
    }

    /// Symfony's ` Did you mean ...?` suffix: candidates within a third of the name's length, or containing it.
    static func alternatives(_ name: String, among candidates: [String]) -> String {
        guard !name.isEmpty else { return "" }
        var found: [String] = []
        let nameBytes = Array(name.utf8)
        for candidate in candidates where !candidate.isEmpty && !candidate.hasPrefix(".") {
            let distance = editDistance(nameBytes, Array(candidate.utf8))
            if Double(distance) <= Double(nameBytes.count) / 3 || candidate.contains(name) {
                found.append(candidate)
            }
        }
        switch found.count {
        case 0: return ""
        case 1: return " Did you mean this: \"\(found[0])\"?"
        default: return " Did you mean one of these: \"" + found.joined(separator: "\", \"") + "\"?"
        }
    }
}

/// PHP's `levenshtein()` on bytes, with unit costs.
func editDistance(_ source: [UInt8], _ target: [UInt8]) -> Int {
    if source.isEmpty { return target.count }
    if target.isEmpty { return source.count }
    var previous = Array(0...target.count)
    var current = [Int](repeating: 0, count: target.count + 1)
    for (sourceIndex, sourceByte) in source.enumerated() {
        current[0] = sourceIndex + 1
        for (targetIndex, targetByte) in target.enumerated() {
            let substitution = previous[targetIndex] + (sourceByte == targetByte ? 0 : 1)
            current[targetIndex + 1] = min(substitution, previous[targetIndex + 1] + 1, current[targetIndex] + 1)
        }
        swap(&previous, &current)
    }
    return previous[target.count]
}
