// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// The error thrown by `BeaconPostgres`: connecting, querying, reading discovered parameters, decoding results.
///
/// Every error carries a ``Code`` to switch on, a ``message``, and where it applies the server's ``sqlState``, the
/// ``endpoint`` involved and the discovery ``key`` the parameters came from. Errors never carry a password: libpq's
/// messages do not contain it, and every message built from discovered data masks it as `***`.
///
/// ```swift
/// do {
///     _ = try await connection.query("SELECT * FROM missing")
/// } catch let error as PostgresError where error.sqlState == .undefinedTable {
///     print(error)  // query failed on 127.0.0.1:5432: relation "missing" does not exist (SQLSTATE 42P01)
/// }
/// ```
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes.
    ///
    /// A struct rather than an enum so that new codes can be added without breaking exhaustive `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed
            case authenticationFailed
            case timedOut
            case connectionClosed
            case queryFailed
            case invalidParameters
            case decodingFailed
            case connectionBusy
            case allAttemptsFailed
            case poolClosed
            case noLeader
            case queryTimedOut
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The server could not be reached or refused the connection (other than for its credentials).
        public static let connectionFailed = Code(.connectionFailed)
        /// The server rejected the credentials (wrong or missing password, unknown role, `pg_hba.conf`).
        public static let authenticationFailed = Code(.authenticationFailed)
        /// Connecting took longer than ``PostgresParameters/connectTimeout``.
        public static let timedOut = Code(.timedOut)
        /// The connection is closed or broke (the server went away); it cannot be used any more.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server answered a query with an error; ``PostgresError/sqlState`` says which.
        public static let queryFailed = Code(.queryFailed)
        /// Connection parameters (usually read from discovery) are malformed; ``PostgresError/key`` names the key.
        public static let invalidParameters = Code(.invalidParameters)
        /// A result value could not be read as the requested type.
        public static let decodingFailed = Code(.decodingFailed)
        /// A query was started on a connection that is running another one; use a pool to run queries concurrently.
        public static let connectionBusy = Code(.connectionBusy)
        /// Every attempt of a ``PostgresConnectionFactory`` failed; ``PostgresError/attempts`` lists them.
        public static let allAttemptsFailed = Code(.allAttemptsFailed)
        /// The ``PostgresConnectionPool`` was closed.
        public static let poolClosed = Code(.poolClosed)
        /// Discovery names no leader for a Patroni cluster (a failover is in progress); retried like a failed connect.
        public static let noLeader = Code(.noLeader)
        /// A query had no result within its timeout (``PostgresConnection/QueryTimeouts``): a cancel request was sent
        /// (``PostgresError/cancelAnswered`` says whether the server answered it) and the connection was closed. The
        /// statement may or may not have run.
        public static let queryTimedOut = Code(.queryTimedOut)

        /// The code's name, for example `connectionFailed`.
        public var description: String { self.base.rawValue }

        /// The words a description starts with.
        var summary: String {
            switch self.base {
            case .connectionFailed: "connection failed"
            case .authenticationFailed: "authentication failed"
            case .timedOut: "connection timed out"
            case .connectionClosed: "connection closed"
            case .queryFailed: "query failed"
            case .invalidParameters: "invalid connection parameters"
            case .decodingFailed: "cannot decode value"
            case .connectionBusy: "connection busy"
            case .allAttemptsFailed: "all connection attempts failed"
            case .poolClosed: "pool closed"
            case .noLeader: "no leader"
            case .queryTimedOut: "query timed out"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong: the server's or libpq's message, or ours. Never contains a password.
    public var message: String
    /// The server's SQLSTATE, when the server sent one (or the failure implies one, such as `28P01`).
    public var sqlState: SQLState?
    /// The server's detail line, if any.
    public var detail: String?
    /// The server's hint, if any.
    public var hint: String?
    /// The server involved: the one a query ran on, or the last one a connection attempt tried.
    public var endpoint: Endpoint?
    /// The discovery key (or prefix) the connection parameters were read from, if any.
    public var key: String?
    /// For ``Code/allAttemptsFailed`` (and an authentication failure after retries): every attempt, in order.
    public var attempts: [PostgresConnectionAttempt]
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconPostgres/PostgresConnection.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int
    /// Whether the failure happened before the statement was handed to the server (the connection was already gone),
    /// so the server cannot have run it; ``PostgresConnectionPool/withConnection(_:)`` retries such failures.
    public internal(set) var statementNotSent = false
    /// For ``Code/queryTimedOut``: whether the server ended the query within the grace period after the cancel
    /// request (`false` when it did not answer, or when no cancel request could be sent); `nil` for other codes.
    public internal(set) var cancelAnswered: Bool?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: What went wrong; must not contain a password.
    ///   - sqlState: The server's SQLSTATE.
    ///   - detail: The server's detail line.
    ///   - hint: The server's hint.
    ///   - endpoint: The server involved.
    ///   - key: The discovery key involved.
    ///   - attempts: The connection attempts made.
    ///   - underlying: The error that caused this one.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        sqlState: SQLState? = nil,
        detail: String? = nil,
        hint: String? = nil,
        endpoint: Endpoint? = nil,
        key: String? = nil,
        attempts: [PostgresConnectionAttempt] = [],
        underlying: (any Error & Sendable)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.endpoint = endpoint
        self.key = key
        self.attempts = attempts
        self.underlying = underlying
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// One line for the error itself, then one indented line per attempt, such as
    /// `authentication failed on 127.0.0.1:5433 (key "/db/main"): password authentication failed for user "app"
    /// (SQLSTATE 28P01)`.
    public var description: String {
        var result = self.code.summary
        if let endpoint = self.endpoint { result += " on \(endpoint)" }
        if let key = self.key { result += " (key \"\(key)\")" }
        result += ": " + self.message
        if let sqlState = self.sqlState { result += " (SQLSTATE \(sqlState))" }
        if let detail = self.detail { result += "; detail: \(detail)" }
        if let hint = self.hint { result += "; hint: \(hint)" }
        for attempt in self.attempts {
            result += "\n  \(attempt)"
        }
        return result
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "PostgresError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }

    /// Whether the connection an operation ran on can no longer be used.
    var breaksConnection: Bool {
        self.code == .connectionClosed || self.code == .connectionFailed || self.code == .queryTimedOut
            || self.sqlState.map { $0.class == "08" || $0 == .adminShutdown || $0 == .crashShutdown } ?? false
    }
}

/// One attempt of a ``PostgresConnectionFactory`` to connect: which server it tried and why it failed.
public struct PostgresConnectionAttempt: Sendable, CustomStringConvertible {
    /// The attempt's number, from 1.
    public var number: Int
    /// The servers the attempt tried (from the parameters it read), empty when reading the parameters failed.
    public var endpoints: [Endpoint]
    /// Why the attempt failed: a ``PostgresError``, or the discovery source's error.
    public var error: any Error & Sendable

    /// Creates an attempt record.
    ///
    /// - Parameters:
    ///   - number: The attempt's number, from 1.
    ///   - endpoints: The servers it tried.
    ///   - error: Why it failed.
    public init(number: Int, endpoints: [Endpoint], error: any Error & Sendable) {
        self.number = number
        self.endpoints = endpoints
        self.error = error
    }

    /// `attempt 2 (127.0.0.1:5432): connection failed on ...`; only the first line of a multi-line error is kept.
    public var description: String {
        let servers = self.endpoints.isEmpty ? "" : " (\(self.endpoints.map(\.description).joined(separator: ",")))"
        let text = "\(self.error)".split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        return "attempt \(self.number)\(servers): \(text)"
    }
}
