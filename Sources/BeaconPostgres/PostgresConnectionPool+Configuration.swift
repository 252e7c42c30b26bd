// SPDX-License-Identifier: Apache-2.0

extension PostgresConnectionPool {
    /// How a ``PostgresConnectionPool`` sizes and checks its connections, and how long their queries may take.
    public struct Configuration: Hashable, Sendable {
        /// The most connections open at once (idle and leased). Default: 10.
        public var maxConnections: Int
        /// An idle connection is always checked without a round trip before reuse (has the server closed it? is it
        /// outside any transaction?); one idle for longer than this is also pinged with `SELECT 1`. `.zero` pings
        /// every time. Default: 5 seconds.
        public var validationInterval: Duration
        /// How long a query on a lent connection (``PostgresConnection/query(_:_:)``, and the validation ping) waits
        /// for the server, or `nil` for no limit. Default: 30 seconds, as ``PostgresConnection/QueryTimeouts/timeout``
        /// explains: a request is not held forever by a server that froze with its connections open. A query past
        /// its limit is cancelled and its connection closed; the pool opens a new one for the next request.
        public var queryTimeout: Duration?
        /// How long a timed-out query waits for the server to answer the cancel request before its connection is
        /// closed without an answer. Default: 2 seconds.
        public var cancelGracePeriod: Duration

        /// Creates a configuration; every parameter has the default documented on its property.
        ///
        /// - Parameters:
        ///   - maxConnections: The most connections open at once.
        ///   - validationInterval: How long a connection may stay idle before it is pinged on reuse.
        ///   - queryTimeout: How long a query waits for the server, or `nil` for no limit.
        ///   - cancelGracePeriod: How long a timed-out query waits for the server to answer the cancel request.
        public init(
            maxConnections: Int = 10,
            validationInterval: Duration = .seconds(5),
            queryTimeout: Duration? = .seconds(30),
            cancelGracePeriod: Duration = .seconds(2)
        ) {
            self.maxConnections = max(1, maxConnections)
            self.validationInterval = validationInterval
            self.queryTimeout = queryTimeout
            self.cancelGracePeriod = max(.zero, cancelGracePeriod)
        }

        /// The limits the pool gives each connection it lends.
        var queryTimeouts: PostgresConnection.QueryTimeouts {
            PostgresConnection.QueryTimeouts(timeout: self.queryTimeout, cancelGracePeriod: self.cancelGracePeriod)
        }
    }
}
