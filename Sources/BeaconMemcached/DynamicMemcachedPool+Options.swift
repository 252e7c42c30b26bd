// SPDX-License-Identifier: Apache-2.0

extension DynamicMemcachedPool {
    /// Where in a discovery source the server list lives.
    public struct ServerLocation: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case key(String)
            case prefix(String)
        }

        let base: Base

        /// One key whose value is a comma-separated endpoint list, such as `10.0.0.1:11211,10.0.0.2:11211?weight=2`.
        ///
        /// - Parameter key: The full key.
        /// - Returns: The location.
        public static func key(_ key: String) -> ServerLocation { ServerLocation(base: .key(key)) }

        /// Every key under a prefix, each holding one endpoint; the servers are taken in key order.
        ///
        /// - Parameter prefix: The key prefix, usually ending in `/`.
        /// - Returns: The location.
        public static func prefix(_ prefix: String) -> ServerLocation { ServerLocation(base: .prefix(prefix)) }

        /// `key <key>` or `prefix <prefix>`.
        public var description: String {
            switch self.base {
            case .key(let key): "key \(key)"
            case .prefix(let prefix): "prefix \(prefix)"
            }
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
