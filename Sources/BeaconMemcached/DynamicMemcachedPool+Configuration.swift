// SPDX-License-Identifier: Apache-2.0

extension DynamicMemcachedPool {
    /// How a dynamic pool builds its pools and follows its server list.
    public struct Configuration: Sendable {
        /// How each ``MemcachedPool`` is built.
        public var pool: MemcachedPool.Configuration
        /// Watch the source (the default) or poll it.
        public var refresh: Refresh
        /// The port for endpoints without one. Default: 11211.
        public var defaultPort: Int
        /// How long to wait before reading again after the source failed. Default: 1 second.
        public var retryDelay: Duration

        /// Creates a configuration; every parameter has the default described on its property.
        public init(
            pool: MemcachedPool.Configuration = MemcachedPool.Configuration(),
            refresh: Refresh = .watch,
            defaultPort: Int = 11211,
            retryDelay: Duration = .seconds(1)
        ) {
            self.pool = pool
            self.refresh = refresh
            self.defaultPort = defaultPort
            self.retryDelay = retryDelay
        }
    }

    /// How a dynamic pool learns about changes.
    public struct Refresh: Hashable, Sendable {
        enum Base: Hashable, Sendable {
            case watch
            case poll(Duration)
        }

        let base: Base

        /// Follows the source's watch: a change is seen as soon as the source reports it. The default.
        public static let watch = Refresh(base: .watch)

        /// Reads the source again at a fixed interval; wrap the source in a `CachingSource` whose TTL bounds how
        /// often the backend itself is asked. For sources whose watch is expensive or unavailable.
        ///
        /// - Parameter interval: The time between reads.
        /// - Returns: The refresh policy.
        public static func poll(every interval: Duration) -> Refresh { Refresh(base: .poll(interval)) }
    }
}
