// SPDX-License-Identifier: Apache-2.0

/// How a ``MemcachedPool`` picks the server for a key.
///
/// A struct rather than an enum so that new distributions can be added without breaking exhaustive `switch`es.
public struct MemcachedDistribution: Hashable, Sendable, CustomStringConvertible {
    enum Base: String, Hashable, Sendable {
        case consistent
        case modula
    }

    let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// Consistent hashing (ketama), the default: adding or removing one of `n` servers moves about `1/n` of the
    /// keys. The same server for every key as PHP's `Memcached` with `OPT_DISTRIBUTION = DISTRIBUTION_CONSISTENT`.
    public static let consistent = MemcachedDistribution(.consistent)

    /// The key's hash modulo the number of servers (libmemcached's default): changing the server list moves
    /// almost every key. Only for fixed server lists shared with clients that use it.
    public static let modula = MemcachedDistribution(.modula)

    /// The distribution's name, `consistent` or `modula`.
    public var description: String { self.base.rawValue }
}
