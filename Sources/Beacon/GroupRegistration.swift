// SPDX-License-Identifier: Apache-2.0

/// A live registration of several ``ServiceInstance``s that share one lifetime, returned by
/// ``ServiceRegistry/register(group:ttl:)``.
///
/// The instances are registered together, kept alive together and withdrawn together: ``cancel()`` withdraws every
/// one of them and stops their keep-alive; calling it again does nothing. What else they share depends on the
/// registry (an etcd client puts them all on one lease, renewed by one keep-alive loop).
public final class GroupRegistration: Sendable, CustomStringConvertible {
    /// The registered instances, in the order they were given.
    public let instances: [ServiceInstance]

    private let withdraw: OnceAction

    /// Creates a group registration; registries call this.
    ///
    /// - Parameters:
    ///   - instances: The registered instances.
    ///   - withdraw: Removes every instance and stops keeping them alive; called at most once.
    public init(instances: [ServiceInstance], withdraw: @escaping @Sendable () async -> Void) {
        self.instances = instances
        self.withdraw = OnceAction(withdraw)
    }

    /// `true` once ``cancel()`` has been called.
    public var isCancelled: Bool { self.withdraw.hasRun }

    /// Withdraws every instance of the group from discovery and stops keeping them alive.
    ///
    /// Safe to call more than once and from several tasks: only the first call does the work, and it completes even
    /// if the calling task is cancelled.
    public func cancel() async {
        await self.withdraw.run()
    }

    /// `registration of a group of 3 instances: web/a at 10.0.0.1:80, ...`.
    public var description: String {
        let shown = self.instances.prefix(3).map(\.description).joined(separator: ", ")
        let more = self.instances.count > 3 ? ", ..." : ""
        return "registration of a group of \(self.instances.count) instances: \(shown)\(more)"
    }

    /// Checks that a group can be registered: it is not empty, every instance is valid, and no two instances share a
    /// service and an identifier (they would share a key).
    ///
    /// - Parameter instances: The group.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` for an empty group or a repeated
    ///   instance (naming it), or the ``ServiceInstance/validate()`` error of the first invalid instance.
    public static func validate(_ instances: [ServiceInstance]) throws(BeaconError) {
        guard !instances.isEmpty else {
            throw BeaconError(.invalidValue, "a group registration needs at least one instance")
        }
        var seen = Set<[String]>()
        for instance in instances {
            try instance.validate()
            guard seen.insert([instance.service, instance.id]).inserted else {
                throw BeaconError(
                    .invalidValue,
                    "the group holds the instance \(instance.service)/\(instance.id) more than once",
                    text: "\(instance.service)/\(instance.id)"
                )
            }
        }
    }
}

extension ServiceRegistry {
    /// Registers a group by registering each instance on its own: the default for registries with no shared
    /// keep-alive, such as ``StaticSource``.
    ///
    /// The instances are registered one after the other; should one fail, those already registered are withdrawn
    /// before the error is thrown. ``GroupRegistration/cancel()`` withdraws them all. Each keeps its own registration
    /// underneath (its own lease, where the registry has leases), so only the lifetime is shared.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce; at least one, each service and identifier at most once.
    ///   - ttl: Passed to ``register(_:ttl:)`` for each instance.
    /// - Returns: The live group registration.
    /// - Throws: ``BeaconError`` from ``GroupRegistration/validate(_:)``, or the first registration's error.
    public func register(group instances: [ServiceInstance], ttl: Duration) async throws -> GroupRegistration {
        try GroupRegistration.validate(instances)
        var registrations: [ServiceRegistration] = []
        registrations.reserveCapacity(instances.count)
        do {
            for instance in instances {
                registrations.append(try await self.register(instance, ttl: ttl))
            }
        } catch {
            await Self.cancelAll(registrations)
            throw error
        }
        let made = registrations
        return GroupRegistration(instances: instances) { await Self.cancelAll(made) }
    }

    /// Registers a group for the duration of a closure; every instance is withdrawn when the closure returns or throws.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce.
    ///   - ttl: How long the registry keeps the instances if the process stops renewing them.
    ///   - body: The work to do while registered.
    /// - Returns: What `body` returns.
    /// - Throws: The registration's error, or what `body` throws.
    public func withRegistration<Result>(
        group instances: [ServiceInstance],
        ttl: Duration,
        _ body: (GroupRegistration) async throws -> Result
    ) async throws -> Result {
        try await Self.withCancelling(try await self.register(group: instances, ttl: ttl), { await $0.cancel() }, body)
    }

    /// Cancels registrations concurrently.
    private static func cancelAll(_ registrations: [ServiceRegistration]) async {
        await withDiscardingTaskGroup { group in
            for registration in registrations {
                group.addTask { await registration.cancel() }
            }
        }
    }
}
