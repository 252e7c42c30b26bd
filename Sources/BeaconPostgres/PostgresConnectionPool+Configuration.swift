// SPDX-License-Identifier: Apache-2.0

extension PostgresConnectionPool {
    /// How a ``PostgresConnectionPool`` sizes and checks its connections.
    public struct Configuration: Hashable, Sendable {
        /// The most connections open at once (idle and leased). Default: 10.
        public var maxConnections: Int
        /// An idle connection is always checked without a round trip before reuse (has the server closed it? is it
        /// outside any transaction?); one idle for longer than this is also pinged with `SELECT 1`. `.zero` pings
        /// every time. Default: 5 seconds.
        public var validationInterval: Duration

        /// Creates a configuration; every parameter has the default documented on its property.
        ///
        /// - Parameters:
        ///   - maxConnections: The most connections open at once.
        ///   - validationInterval: How long a connection may stay idle before it is pinged on reuse.
        public init(maxConnections: Int = 10, validationInterval: Duration = .seconds(5)) {
            self.maxConnections = max(1, maxConnections)
            self.validationInterval = validationInterval
        }
    }
}
