// SPDX-License-Identifier: Apache-2.0

extension DynamicMemcachedPool {
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
