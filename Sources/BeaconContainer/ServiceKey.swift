// SPDX-License-Identifier: Apache-2.0

/// A typed name for a service: `get` with a key returns a `T` without a cast at the call site.
///
/// Keys returned by ``ContainerBuilder/register(_:as:scope:factory:)`` remember the service's slot, so a
/// ``Container/get(_:)`` with such a key reads the slot directly instead of looking the id up.
/// A key made from an id alone (``init(_:)``) works too, through the id.
///
/// ```swift
/// let configKey = builder.register("config", as: AppConfig.self) { _ in AppConfig() }
/// let config = try await container.get(configKey)   // AppConfig
/// ```
public struct ServiceKey<T: Sendable>: Sendable, Hashable, CustomStringConvertible {
    /// The service id.
    public let id: String
    /// The slot the service has in containers built by the builder identified by `owner`.
    @usableFromInline let slot: Int
    /// The builder that assigned `slot` (0 for a key made from an id).
    @usableFromInline let owner: UInt64

    /// Creates a key for a service id; the container looks it up by id.
    ///
    /// - Parameter id: The service id.
    public init(_ id: String) {
        self.id = id
        self.slot = -1
        self.owner = 0
    }

    init(id: String, slot: Int, owner: UInt64) {
        self.id = id
        self.slot = slot
        self.owner = owner
    }

    /// The service id.
    public var description: String { id }
}

/// How long a built service lives.
public struct ServiceScope: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable {
        case shared
        case transient
        case refreshable
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// Built on the first `get`, then the same instance for every `get` (the default, Symfony's `shared: true`).
    /// Rebuilt only when something it was built from is invalidated.
    public static let shared = ServiceScope(.shared)
    /// Built anew on every `get` (Symfony's `shared: false`).
    public static let transient = ServiceScope(.transient)
    /// Built once, then rebuilt on the next `get` after ``Container/invalidate(_:)`` or after one of its change
    /// signals fires.
    public static let refreshable = ServiceScope(.refreshable)

    /// `shared`, `transient` or `refreshable`.
    public var description: String { base.rawValue }
}
