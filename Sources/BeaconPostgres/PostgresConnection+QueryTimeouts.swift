// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

extension PostgresConnection {
    /// How long a query may wait for the server, and how long a late query's cancel request may take.
    ///
    /// When a query has no result by its deadline, the connection sends libpq's cancel request and waits up to
    /// ``cancelGracePeriod`` for the server to end the query. Either way the query throws
    /// ``PostgresError/Code/queryTimedOut`` and the connection is closed; a pool replaces it.
    ///
    /// ```swift
    /// connection.queryTimeouts = .init(timeout: .seconds(5), cancelGracePeriod: .seconds(1))
    /// ```
    public struct QueryTimeouts: Hashable, Sendable {
        /// How long ``PostgresConnection/query(_:_:)`` waits for a result, or `nil` to wait without limit.
        /// Default: 30 seconds.
        ///
        /// A frozen or unreachable server that keeps its TCP connection open would otherwise hold the query, and the
        /// request around it, forever. 30 seconds is longer than any statement an online request should run and short
        /// enough to free a request whose server stopped answering. Long reports and maintenance pass their own limit
        /// (or `nil`) to ``PostgresConnection/query(_:_:timeout:)``.
        public var timeout: Duration?
        /// How long a timed-out query waits for the server to answer the cancel request before the connection is
        /// closed without an answer. Default: 2 seconds: a server that is up answers a cancel in milliseconds.
        public var cancelGracePeriod: Duration

        /// Creates timeouts; every parameter has the default documented on its property.
        ///
        /// - Parameters:
        ///   - timeout: How long a query waits for a result, or `nil` for no limit.
        ///   - cancelGracePeriod: How long a timed-out query waits for the server to answer the cancel request.
        public init(timeout: Duration? = .seconds(30), cancelGracePeriod: Duration = .seconds(2)) {
            self.timeout = timeout
            self.cancelGracePeriod = max(.zero, cancelGracePeriod)
        }
    }

    /// The limits ``query(_:_:)`` applies; a ``PostgresConnectionPool`` sets them from its ``PostgresConnectionPool/Configuration``
    /// each time it lends the connection. Default: ``QueryTimeouts/init(timeout:cancelGracePeriod:)``'s defaults.
    public var queryTimeouts: QueryTimeouts {
        get { self.state.withLock { $0.queryTimeouts } }
        set { self.state.withLock { $0.queryTimeouts = newValue } }
    }
}
