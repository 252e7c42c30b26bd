// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension EtcdClient {
    /// Lists the instances of a service registered under the `ServiceInstance` key convention
    /// (`<servicePrefix>/<service>/<id>` holding JSON).
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, sorted by identifier.
    /// - Throws: ``EtcdError``, or `BeaconError` naming the key of an entry that is not an instance.
    public func instances(of service: String) async throws -> [ServiceInstance] {
        let prefix = ServiceInstance.servicePrefix(service, prefix: self.configuration.servicePrefix)
        return try await self.list(prefix: prefix).map { entry throws(BeaconError) in
            try ServiceInstance(decoding: entry)
        }
    }

    /// Follows the instances of a service registered under `<servicePrefix>/<service>/` (a watch of that prefix).
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watchInstances(of service: String) -> ServiceInstanceWatch {
        .following(self, prefix: ServiceInstance.servicePrefix(service, prefix: self.configuration.servicePrefix))
    }

    /// Registers an instance under a lease that the client's ``run()`` keeps alive until the registration is
    /// cancelled.
    ///
    /// The key is `<servicePrefix>/<service>/<id>`, its value the instance's JSON, attached to a lease of `ttl`,
    /// both written before this method returns (should the lease expire between its grant and the write, on a
    /// stalled machine, a new one is granted, up to three times). The registration's keep-alive is a child task of ``run()``: it
    /// renews the lease every third of the TTL, and if the lease is lost (the process stalled past the TTL, or the
    /// cluster lost it) it grants a new lease and writes the key again.
    ///
    /// - A registration made before ``run()`` starts is kept alive from the moment it starts (run the client in
    ///   the same `ServiceGroup` as the code that registers, in any order). Until then nothing renews the lease:
    ///   if `run()` starts later than the TTL, the keep-alive finds the lease lost and registers again.
    /// - `ServiceRegistration.cancel()` stops the keep-alive and revokes the lease: the key disappears at once.
    /// - When ``run()`` ends (graceful shutdown or cancellation) it revokes the leases of the registrations still
    ///   live. If the process dies instead, or ``close()`` is called, the key disappears when the TTL runs out.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: The lease's TTL (whole seconds, at least one).
    /// - Returns: The live registration.
    /// - Throws: `BeaconError` when the service name or id cannot be used in a key; ``EtcdError`` when the first
    ///   write fails, or with code ``EtcdError/Code/closed`` once ``run()`` has ended or the client is closed.
    public func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try instance.validate()
        let keeper = try await self.keepOnLease(
            instance.key(prefix: self.configuration.servicePrefix),
            value: instance.encodedValue(),
            ttl: ttl,
            operation: "register"
        )
        return ServiceRegistration(instance: instance) { await keeper.withdraw() }
    }

    /// Registers a group of instances on one lease that the client's ``run()`` keeps alive until the registration is
    /// cancelled: one lease, one keep-alive loop and one revoke for the whole group.
    ///
    /// Each key is `<servicePrefix>/<service>/<id>` holding the instance's JSON, as with ``register(_:ttl:)``; every
    /// key is attached to the same lease of `ttl`. They are written before this method returns, in transactions of up
    /// to 128 puts (etcd's default `--max-txn-ops`), so a group of up to 128 instances appears at once. Should a
    /// write fail, the lease is revoked, which removes the keys already written, and nothing stays registered.
    ///
    /// - The keep-alive is one child task of ``run()``: it renews the lease every third of the TTL, one request
    ///   however many instances the group holds. If the lease is lost, it grants a new one and writes every key
    ///   again.
    /// - `GroupRegistration.cancel()` revokes the lease: every key disappears at once, in one revision. When
    ///   ``run()`` ends it revokes it too; if the process dies, every key disappears when the TTL runs out.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce; at least one, each service and identifier at most once.
    ///   - ttl: The lease's TTL (whole seconds, at least one).
    /// - Returns: The live group registration.
    /// - Throws: `BeaconError` from `GroupRegistration.validate(_:)` naming the instance; ``EtcdError`` naming the
    ///   keys when the first write fails, or with code ``EtcdError/Code/closed`` once ``run()`` has ended or the
    ///   client is closed.
    public func register(group instances: [ServiceInstance], ttl: Duration) async throws -> GroupRegistration {
        try GroupRegistration.validate(instances)
        let entries = instances.map { instance in
            LeasedEntry(key: instance.key(prefix: self.configuration.servicePrefix), value: instance.encodedValue())
        }
        let keeper = try await self.keepOnLease(entries, ttl: ttl, operation: "register")
        return GroupRegistration(instances: instances) { await keeper.withdraw() }
    }
}
