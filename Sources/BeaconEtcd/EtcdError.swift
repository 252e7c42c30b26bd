// SPDX-License-Identifier: Apache-2.0

/// An error from the etcd client.
///
/// Errors name the endpoint and the operation, and carry etcd's own gRPC code and message when the server
/// answered. They never contain the password or the authentication token.
public struct EtcdError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes. A struct, so that codes can be added without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unavailable
            case server
            case authenticationFailed
            case permissionDenied
            case invalidResponse
            case invalidConfiguration
            case leaseNotFound
            case compacted
            case closed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No endpoint could be reached (connection refused, timed out, reset).
        public static let unavailable = Code(.unavailable)
        /// etcd answered with an error; ``EtcdError/grpcCode`` and ``EtcdError/message`` say which.
        public static let server = Code(.server)
        /// The user name or password was rejected.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The user may not access the key.
        public static let permissionDenied = Code(.permissionDenied)
        /// etcd's answer could not be decoded.
        public static let invalidResponse = Code(.invalidResponse)
        /// The client's configuration is not usable (no endpoint, a malformed URL).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The lease does not exist (expired or revoked).
        public static let leaseNotFound = Code(.leaseNotFound)
        /// The requested revision has been compacted.
        public static let compacted = Code(.compacted)
        /// The client was closed (by ``EtcdClient/close()`` or at the end of ``EtcdClient/run()``).
        public static let closed = Code(.closed)

        /// The code's name.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, in a sentence.
    public var message: String
    /// The operation, such as `range` or `lease/grant`.
    public var operation: String
    /// The URL of the etcd endpoint that answered or failed, if one is known.
    public var target: String?
    /// etcd's gRPC status code, when etcd answered with an error.
    public var grpcCode: Int?
    /// How many attempts were made (across endpoints) before giving up.
    public var attempts: Int
    /// The error that caused this one, such as the HTTP layer's.
    public var underlying: (any Error)?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconEtcd/EtcdTransport.swift:90`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: What happened.
    ///   - operation: The operation, such as `range`.
    ///   - target: The URL of the endpoint involved.
    ///   - grpcCode: etcd's gRPC status code.
    ///   - attempts: How many attempts were made.
    ///   - underlying: The error that caused this one.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        operation: String,
        target: String? = nil,
        grpcCode: Int? = nil,
        attempts: Int = 1,
        underlying: (any Error)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.target = target
        self.grpcCode = grpcCode
        self.attempts = attempts
        self.underlying = underlying
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// For example `etcd range at http://127.0.0.1:23790 failed (unavailable, after 3 attempts): ...`.
    public var description: String {
        var result = "etcd \(self.operation)"
        if let target = self.target { result += " at \(target)" }
        result += " failed (\(self.code)"
        if let grpcCode = self.grpcCode { result += ", gRPC code \(grpcCode)" }
        if self.attempts > 1 { result += ", after \(self.attempts) attempts" }
        result += "): \(self.message)"
        if let underlying = self.underlying { result += " (\(underlying))" }
        return result
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "EtcdError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }
}
