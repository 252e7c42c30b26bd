// SPDX-License-Identifier: Apache-2.0

/// How fresh a value read from a ``TTLCache`` is.
///
/// A struct rather than an enum so that more states can be added without breaking `switch`es.
public struct Freshness: Hashable, Sendable, CustomStringConvertible {
    /// `true` when the value is older than its TTL and was served because the load that should have replaced it
    /// failed (stale-if-error).
    public var isStale: Bool
    /// Time since the value was loaded from its source.
    public var age: Duration

    /// A value within its TTL.
    ///
    /// - Parameter age: Time since the value was loaded.
    /// - Returns: The freshness.
    public static func fresh(age: Duration) -> Freshness { Freshness(isStale: false, age: age) }

    /// A value past its TTL, served because a reload failed.
    ///
    /// - Parameter age: Time since the value was loaded.
    /// - Returns: The freshness.
    public static func stale(age: Duration) -> Freshness { Freshness(isStale: true, age: age) }

    /// `fresh (age 1.5 seconds)` or `stale (age 42.0 seconds)`.
    public var description: String { "\(self.isStale ? "stale" : "fresh") (age \(self.age))" }
}

/// A value read from a ``TTLCache`` together with how fresh it is.
public struct CacheLookup<Value: Sendable>: Sendable {
    /// The value, or `nil` when the source said the key is absent (a negative entry).
    public var value: Value?
    /// How fresh the value is.
    public var freshness: Freshness

    /// Creates a lookup result.
    ///
    /// - Parameters:
    ///   - value: The value, or `nil` for a known-absent key.
    ///   - freshness: How fresh it is.
    public init(value: Value?, freshness: Freshness) {
        self.value = value
        self.freshness = freshness
    }
}

extension CacheLookup: Equatable where Value: Equatable {}
extension CacheLookup: Hashable where Value: Hashable {}
