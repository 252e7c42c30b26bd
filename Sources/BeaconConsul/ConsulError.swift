// SPDX-License-Identifier: Apache-2.0

/// An error from the Consul client.
///
/// Errors name the operation, the key or service, and the agent, and carry the HTTP status and Consul's own message
/// (its error bodies are plain text) when the agent answered. They never contain the ACL token.
public struct ConsulError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes. A struct, so that codes can be added without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unavailable
            case permissionDenied
            case rateLimited
            case badRequest
            case server
            case invalidResponse
            case invalidConfiguration
            case invalidKey
            case closed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No agent could be reached (connection refused, timed out, reset).
        public static let unavailable = Code(.unavailable)
        /// The ACL token was refused or lacks a permission (HTTP 403: `Permission denied`, `ACL not found`).
        public static let permissionDenied = Code(.permissionDenied)
        /// The agent refused the request for its rate limit (HTTP 429).
        public static let rateLimited = Code(.rateLimited)
        /// The agent rejected the request as malformed (HTTP 400, or 413 for a value over the size limit).
        public static let badRequest = Code(.badRequest)
        /// The agent answered with another error, such as HTTP 500 `No path to datacenter`.
        public static let server = Code(.server)
        /// The agent's answer could not be decoded.
        public static let invalidResponse = Code(.invalidResponse)
        /// The client's configuration is not usable (no agent, a malformed URL).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A key Consul cannot store (after the leading `/` is removed: empty, a `..` segment, spaces).
        public static let invalidKey = Code(.invalidKey)
        /// The client was closed (by ``ConsulClient/close()`` or at the end of ``ConsulClient/run()``).
        public static let closed = Code(.closed)

        /// The code's name.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, in a sentence (for an agent's error, its plain-text body).
    public var message: String
    /// The operation, such as `kv get` or `agent service register`.
    public var operation: String
    /// The Beacon key, key prefix or service name the operation concerned, when there is one.
    public var subject: String?
    /// The URL of the agent that answered or failed, if one is known.
    public var target: String?
    /// The HTTP status, when the agent answered.
    public var status: Int?
    /// How many attempts were made (across agents) before giving up.
    public var attempts: Int
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line`, for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: What happened.
    ///   - operation: The operation, such as `kv get`.
    ///   - subject: The key, prefix or service concerned.
    ///   - target: The URL of the agent involved.
    ///   - status: The HTTP status.
    ///   - attempts: How many attempts were made.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        operation: String,
        subject: String? = nil,
        target: String? = nil,
        status: Int? = nil,
        attempts: Int = 1,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.subject = subject
        self.target = target
        self.status = status
        self.attempts = attempts
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// For example `Consul kv get /db/main at http://127.0.0.1:8500 failed (permissionDenied, HTTP 403): ACL not found`.
    public var description: String {
        var result = "Consul \(self.operation)"
        if let subject = self.subject { result += " \(subject)" }
        if let target = self.target { result += " at \(target)" }
        result += " failed (\(self.code)"
        if let status = self.status { result += ", HTTP \(status)" }
        if self.attempts > 1 { result += ", after \(self.attempts) attempts" }
        result += "): \(self.message)"
        return result
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "ConsulError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }
}
