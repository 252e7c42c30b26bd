// SPDX-License-Identifier: Apache-2.0

extension PostgresConnectionFactory {
    /// Where in discovery a factory reads its ``PostgresParameters``.
    public struct Location: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case key(String)
            case prefix(String)
        }

        let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// One key holding a JSON object or a `postgresql://` URI (see ``PostgresParameters/init(parsing:)``).
        ///
        /// - Parameter key: The full key, for example `/db/main`.
        /// - Returns: The location.
        public static func key(_ key: String) -> Location { Location(.key(key)) }

        /// Separate keys under a prefix (see ``PostgresParameters/init(entries:prefix:)``).
        ///
        /// - Parameter prefix: The prefix, for example `/db/main/`.
        /// - Returns: The location.
        public static func prefix(_ prefix: String) -> Location { Location(.prefix(prefix)) }

        /// The key or prefix.
        public var description: String {
            switch self.base {
            case .key(let key): key
            case .prefix(let prefix): prefix
            }
        }
    }
}
