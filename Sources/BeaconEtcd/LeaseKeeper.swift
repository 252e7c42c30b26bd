// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Logging

extension EtcdClient {
    /// Writes a key attached to a new lease of `ttl` and hands the lease to ``run()`` to keep alive: the machinery
    /// shared by ``register(_:ttl:)`` and ``putEphemeral(_:value:ttl:)``.
    ///
    /// Both the grant and the write happen before this method returns; should the lease expire between them (a
    /// stalled machine), a new one is granted, up to three times.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The bytes to store.
    ///   - ttl: The lease's TTL.
    ///   - operation: The public operation, for errors (`register`, `putEphemeral`).
    /// - Returns: The keeper, already added to the client's lifecycle; its `withdraw()` revokes the lease.
    /// - Throws: ``EtcdError`` when the first write fails, or with code ``EtcdError/Code/closed`` once ``run()`` has
    ///   ended or the client is closed.
    func keepOnLease(_ key: String, value: [UInt8], ttl: Duration, operation: String) async throws -> LeaseKeeper {
        guard self.lifecycle.isAccepting else {
            throw EtcdError(.closed, "the client no longer accepts registrations", operation: operation)
        }
        var lease = try await self.grantLease(ttl: ttl)
        var attempt = 1
        while true {
            do {
                try await self.put(key, bytes: value, lease: lease)
                break
            } catch let error as EtcdError where error.code == .leaseNotFound && attempt < 3 {
                // The lease expired between the grant and the put (a stalled process, a slow cluster): a new one.
                attempt += 1
                lease = try await self.grantLease(ttl: ttl)
            } catch {
                try? await self.revoke(lease, ignoringCancellation: true)
                throw error
            }
        }
        let keeper = LeaseKeeper(client: self, key: key, value: value, lease: lease)
        guard self.lifecycle.add(keeper) else {
            // run() ended or close() was called while the key was being written.
            try? await self.revoke(lease, ignoringCancellation: true)
            throw EtcdError(.closed, "the client no longer accepts registrations", operation: operation)
        }
        self.logger.debug("Registered", metadata: ["beacon.etcd.key": "\(key)", "beacon.etcd.lease": "\(lease.id)"])
        return keeper
    }
}

/// One registration's lease: renewed by a child task of ``EtcdClient/run()``, re-registered when lost, and revoked
/// once, by the registration's `cancel()` or at the end of `run()`, whichever comes first (the choreography of
/// `KeptAliveRegistration`).
final class LeaseKeeper: KeptAliveRegistration {
    let keepAliveState = KeepAliveState()
    private let client: EtcdClient
    private let key: String
    private let value: [UInt8]
    private let current: Lock<EtcdLease>

    init(client: EtcdClient, key: String, value: [UInt8], lease: EtcdLease) {
        self.client = client
        self.key = key
        self.value = value
        self.current = Lock(lease)
    }

    /// The lease the key is attached to now.
    var lease: EtcdLease { self.current.withLock { $0 } }

    /// Renews the lease every third of its TTL until cancelled.
    func renew() async {
        let interval = max(self.lease.ttl / 3, .milliseconds(200))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                if try await self.client.keepAlive(self.lease) == nil {
                    try await self.registerAgain()
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

    /// Grants a new lease and writes the key again, after the old lease was lost.
    ///
    /// Both requests go on if the keep-alive is stopped meanwhile, so that the new lease is recorded (and revoked by
    /// the withdrawal that follows) rather than left behind.
    private func registerAgain() async throws {
        let lost = self.lease
        self.client.logger.info(
            "Registration lease was lost; registering again",
            metadata: ["beacon.etcd.key": "\(self.key)", "beacon.etcd.lease": "\(lost.id)"]
        )
        let fresh = try await self.client.grantLease(ttl: lost.ttl, ignoringCancellation: true)
        self.current.withLock { $0 = fresh }
        try await self.client.put(self.key, bytes: self.value, lease: fresh, ignoringCancellation: true)
    }

    /// Revokes the lease (even if the calling task is cancelled) and forgets the registration.
    func release() async {
        let lease = self.lease
        do {
            try await self.client.revoke(lease, ignoringCancellation: true)
            self.client.logger.debug(
                "Withdrew a registration",
                metadata: ["beacon.etcd.key": "\(self.key)", "beacon.etcd.lease": "\(lease.id)"]
            )
        } catch {
            self.client.logger.debug(
                "Revoking a registration's lease failed; the key expires with its TTL",
                metadata: ["beacon.etcd.key": "\(self.key)", "beacon.error": "\(error)"]
            )
        }
        self.client.lifecycle.remove(self)
    }
}
