// SPDX-License-Identifier: Apache-2.0

/// An error from the ZooKeeper client.
///
/// Errors name the operation, the znode path and the ensemble, and carry ZooKeeper's own return code by name (such
/// as `ZNONODE`) when the server or the library answered with one. They never contain the digest password.
public struct ZooKeeperError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes. A struct, so that codes can be added without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unavailable
            case noNode
            case nodeExists
            case notEmpty
            case badVersion
            case noChildrenForEphemerals
            case notAuthorized
            case authenticationFailed
            case invalidArgument
            case invalidConfiguration
            case server
            case closed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No server of the ensemble answered in time (connection loss, operation timeout, session moving between
        /// servers); ``ZooKeeperError/attempts`` says how many times the request was tried.
        public static let unavailable = Code(.unavailable)
        /// The node does not exist (`ZNONODE`), or its parent does not when creating it.
        public static let noNode = Code(.noNode)
        /// A node already exists at the path (`ZNODEEXISTS`).
        public static let nodeExists = Code(.nodeExists)
        /// The node has children and cannot be deleted (`ZNOTEMPTY`).
        public static let notEmpty = Code(.notEmpty)
        /// The node's version is not the expected one (`ZBADVERSION`): a compare-and-set conflict.
        public static let badVersion = Code(.badVersion)
        /// Ephemeral nodes cannot have children (`ZNOCHILDRENFOREPHEMERALS`).
        public static let noChildrenForEphemerals = Code(.noChildrenForEphemerals)
        /// The node's ACL does not allow this client the operation (`ZNOAUTH`).
        public static let notAuthorized = Code(.notAuthorized)
        /// The ensemble rejected the digest credentials (`ZAUTHFAILED`); the session cannot be used.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// A path or argument ZooKeeper refuses (`ZBADARGUMENTS`): not absolute, ending in `/`, holding `//`.
        public static let invalidArgument = Code(.invalidArgument)
        /// The client's configuration is not usable (no server, a malformed chroot).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Any other error ZooKeeper answered with; ``ZooKeeperError/returnCode`` names it.
        public static let server = Code(.server)
        /// The client was closed (by ``ZooKeeperClient/close()`` or at the end of ``ZooKeeperClient/run()``).
        public static let closed = Code(.closed)

        /// The code's name.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, in a sentence.
    public var message: String
    /// The operation, such as `get` or `create`.
    public var operation: String
    /// The znode path, relative to the chroot, when the error concerns one.
    public var path: String?
    /// The ensemble the client talks to, as `host:port,host:port`.
    public var target: String?
    /// ZooKeeper's return code, such as `-101`, when the library answered with one.
    public var returnCode: Int32?
    /// How many attempts were made before giving up.
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
    ///   - operation: The operation, such as `get`.
    ///   - path: The znode path involved.
    ///   - target: The ensemble.
    ///   - returnCode: ZooKeeper's return code.
    ///   - attempts: How many attempts were made.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        operation: String,
        path: String? = nil,
        target: String? = nil,
        returnCode: Int32? = nil,
        attempts: Int = 1,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.path = path
        self.target = target
        self.returnCode = returnCode
        self.attempts = attempts
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// ZooKeeper's name for ``returnCode``, such as `ZNONODE`; `nil` without a return code.
    public var returnCodeName: String? { self.returnCode.map(ReturnCode.name) }

    /// For example `ZooKeeper get /db/main at 127.0.0.1:21810 failed (noNode, ZNONODE): the node does not exist`.
    public var description: String {
        var result = "ZooKeeper \(self.operation)"
        if let path = self.path { result += " \(path)" }
        if let target = self.target { result += " at \(target)" }
        result += " failed (\(self.code)"
        if let name = self.returnCodeName { result += ", \(name)" }
        if self.attempts > 1 { result += ", after \(self.attempts) attempts" }
        result += "): \(self.message)"
        return result
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "ZooKeeperError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }
}
