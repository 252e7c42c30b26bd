// SPDX-License-Identifier: Apache-2.0

public import Beacon
import Logging
import Synchronization

extension EtcdClient {
    /// Lists the instances of a service registered under the ``ServiceInstance`` key convention
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

    /// Registers an instance under a lease and keeps the lease alive until the registration is cancelled.
    ///
    /// The key is `<servicePrefix>/<service>/<id>`, its value the instance's JSON, attached to a lease of
    /// `ttl`. A task owned by the registration renews the lease every third of the TTL. If the lease is lost
    /// (the process stalled past the TTL, or the cluster lost it), the task grants a new lease and writes the
    /// key again. ``ServiceRegistration/cancel()`` stops the task and revokes the lease, so the key disappears
    /// at once; if the process dies instead, the key disappears when the TTL runs out.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: The lease's TTL (whole seconds, at least one).
    /// - Returns: The live registration.
    /// - Throws: `BeaconError` when the service name or id cannot be used in a key, or ``EtcdError`` when the
    ///   first write fails.
    public func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try instance.validate()
        let key = instance.key(prefix: self.configuration.servicePrefix)
        let value = instance.encodedValue()
        let lease = try await self.grantLease(ttl: ttl)
        do {
            try await self.put(key, bytes: value, lease: lease)
        } catch {
            try? await self.revoke(lease)
            throw error
        }
        let keeper = LeaseKeeper(client: self, key: key, value: value, lease: lease)
        // The registration owns this task: cancel() cancels it, waits for it, then revokes the lease.
        let task = Task { await keeper.keepAlive() }
        self.logger.debug("Registered", metadata: ["beacon.etcd.key": "\(key)", "beacon.etcd.lease": "\(lease.id)"])
        return ServiceRegistration(instance: instance) { [self] in
            task.cancel()
            await task.value
            do {
                try await self.revoke(keeper.lease)
            } catch {
                self.logger.debug(
                    "Revoking a registration's lease failed; the key expires with its TTL",
                    metadata: ["beacon.etcd.key": "\(key)", "beacon.error": "\(error)"]
                )
            }
        }
    }
}

/// Keeps one registration's lease alive, re-registering when the lease is lost.
final class LeaseKeeper: Sendable {
    private let client: EtcdClient
    private let key: String
    private let value: [UInt8]
    private let current: Mutex<EtcdLease>

    init(client: EtcdClient, key: String, value: [UInt8], lease: EtcdLease) {
        self.client = client
        self.key = key
        self.value = value
        self.current = Mutex(lease)
    }

    /// The lease the key is attached to now.
    var lease: EtcdLease { self.current.withLock { $0 } }

    /// Renews the lease every third of its TTL until cancelled.
    func keepAlive() async {
        let lease = self.lease
        let interval = max(lease.ttl / 3, .milliseconds(200))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                if try await self.client.keepAlive(self.lease) == nil {
                    self.client.logger.info(
                        "Registration lease was lost; registering again",
                        metadata: ["beacon.etcd.key": "\(self.key)", "beacon.etcd.lease": "\(self.lease.id)"]
                    )
                    let fresh = try await self.client.grantLease(ttl: lease.ttl)
                    self.current.withLock { $0 = fresh }
                    try await self.client.put(self.key, bytes: self.value, lease: fresh)
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                self.client.logger.info(
                    "Renewing a registration lease failed; retrying",
                    metadata: ["beacon.etcd.key": "\(self.key)", "beacon.error": "\(error)"]
                )
            }
        }
    }
}
