// SPDX-License-Identifier: Apache-2.0

/// A place where service instances announce themselves and where clients find them.
///
/// ``register(_:ttl:)`` returns a ``ServiceRegistration`` that keeps the instance registered (an etcd
/// lease kept alive; in ``StaticSource``, an entry) until it is cancelled or the
/// process dies; the instance then disappears from ``instances(of:)``. A registry whose renewals are
/// background work does them in its swift-service-lifecycle service's `run()` (the etcd client's), which
/// must run for registrations to stay alive, and which withdraws them when it ends.
public protocol ServiceRegistry: Sendable {
    /// Lists the registered instances of a service.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, sorted by identifier; empty when none is registered.
    /// - Throws: An error when the registry cannot answer, or a ``BeaconError`` with code
    ///   ``BeaconError/Code/invalidValue`` when an entry is not a valid instance.
    func instances(of service: String) async throws -> [ServiceInstance]

    /// Follows the instances of a service: the current list, then the list after each change.
    ///
    /// Registries that keep instances under a key prefix follow it (``ServiceInstanceWatch/following(_:prefix:)``);
    /// others use their own means (Consul's blocking queries on its health endpoint).
    ///
    /// - Parameter service: The service's name.
    /// - Returns: A sequence whose first element is the current list, sorted by identifier.
    func watchInstances(of service: String) -> ServiceInstanceWatch

    /// Registers an instance and keeps it registered until the returned registration is cancelled.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: How long the registry keeps the instance after the process stops renewing it (crashed,
    ///     stalled, partitioned). Registries renew well within this time.
    /// - Returns: The live registration; call ``ServiceRegistration/cancel()`` to withdraw the instance.
    /// - Throws: An error when the instance cannot be registered.
    func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration

    /// Registers several instances that share one lifetime, and keeps them registered until the returned
    /// registration is cancelled.
    ///
    /// The instances are registered before this method returns (all of them, or none: should one fail, those
    /// already written are withdrawn), kept alive together, and withdrawn together by
    /// ``GroupRegistration/cancel()``. Registries with leases share one among the group, so that keeping a
    /// thousand instances alive costs what keeping one does; others register each instance on its own underneath
    /// (the default implementation). Single registrations (``register(_:ttl:)``) keep their own lease.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce; at least one, each service and identifier at most once.
    ///   - ttl: How long the registry keeps the instances after the process stops renewing them.
    /// - Returns: The live group registration.
    /// - Throws: ``BeaconError`` from ``GroupRegistration/validate(_:)``, or an error naming the instance or key that
    ///   could not be registered.
    func register(group instances: [ServiceInstance], ttl: Duration) async throws -> GroupRegistration
}

extension ServiceRegistry {
    /// Registers an instance for the duration of a closure.
    ///
    /// The registration is cancelled when the closure returns or throws, so the instance disappears from
    /// discovery at once.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: How long the registry keeps the instance if the process stops renewing it.
    ///   - body: The work to do while registered, such as serving requests until shutdown.
    /// - Returns: What `body` returns.
    /// - Throws: The registration's error, or what `body` throws.
    public func withRegistration<Result>(
        _ instance: ServiceInstance,
        ttl: Duration,
        _ body: (ServiceRegistration) async throws -> Result
    ) async throws -> Result {
        try await Self.withCancelling(try await self.register(instance, ttl: ttl), { await $0.cancel() }, body)
    }

    /// Runs `body` with a registration, then cancels it, whether `body` returned or threw.
    ///
    /// - Parameters:
    ///   - registration: The live registration.
    ///   - cancel: How to cancel it.
    ///   - body: The work to do while registered.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    static func withCancelling<Registration, Result>(
        _ registration: Registration,
        _ cancel: (Registration) async -> Void,
        _ body: (Registration) async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await body(registration)
            await cancel(registration)
            return result
        } catch {
            await cancel(registration)
            throw error
        }
    }
}
