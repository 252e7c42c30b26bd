// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Logging

extension EtcdClient {
    /// Writes a key attached to a new lease of `ttl` and hands the lease to ``run()`` to keep alive: the machinery
    /// shared by ``register(_:ttl:)`` and ``putEphemeral(_:value:ttl:)``.
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
        try await self.keepOnLease([LeasedEntry(key: key, value: value)], ttl: ttl, operation: operation)
    }

    /// Writes keys attached to one new lease of `ttl` and hands the lease to ``run()`` to keep alive: one grant, the
    /// writes (one put for a single key; transactions of up to ``LeasedEntry/transactionSize`` puts for more), and
    /// afterwards one keep-alive loop and one revoke for them all.
    ///
    /// Both the grant and the writes happen before this method returns; should the lease expire between them (a
    /// stalled machine), a new one is granted and every key written again, up to three times. Should a write fail
    /// otherwise, the lease is revoked (removing the keys already written) and the error names the keys.
    ///
    /// - Parameters:
    ///   - entries: The keys and values, with distinct keys.
    ///   - ttl: The lease's TTL.
    ///   - operation: The public operation, for errors (`register`, `putEphemeral`).
    /// - Returns: The keeper, already added to the client's lifecycle; its `withdraw()` revokes the lease.
    /// - Throws: ``EtcdError`` when the first write fails, or with code ``EtcdError/Code/closed`` once ``run()`` has
    ///   ended or the client is closed.
    func keepOnLease(_ entries: [LeasedEntry], ttl: Duration, operation: String) async throws -> LeaseKeeper {
        guard self.lifecycle.isAccepting else {
            throw EtcdError(.closed, "the client no longer accepts registrations", operation: operation)
        }
        var grantedAt = ContinuousClock.now
        var lease = try await self.grantLease(ttl: ttl)
        var attempt = 1
        while true {
            do {
                try await self.write(entries, lease: lease, ignoringCancellation: false)
                break
            } catch let error as EtcdError where error.code == .leaseNotFound && attempt < 3 {
                // The lease expired between the grant and the put (a stalled process, a slow cluster): a new one.
                attempt += 1
                grantedAt = .now
                lease = try await self.grantLease(ttl: ttl)
            } catch {
                try? await self.revoke(lease, ignoringCancellation: true)
                throw error
            }
        }
        let keeper = LeaseKeeper(client: self, entries: entries, lease: lease, grantedAt: grantedAt)
        guard self.lifecycle.add(keeper) else {
            // run() ended or close() was called while the keys were being written.
            try? await self.revoke(lease, ignoringCancellation: true)
            throw EtcdError(.closed, "the client no longer accepts registrations", operation: operation)
        }
        self.logger.debug(
            "Registered",
            metadata: ["beacon.etcd.key": "\(keeper.label)", "beacon.etcd.lease": "\(lease.id)"]
        )
        return keeper
    }

    /// Writes entries attached to a lease: a plain put for one entry, transactions of puts for more.
    ///
    /// - Throws: ``EtcdError``; for several entries, its message names the keys of the transaction that failed.
    func write(_ entries: [LeasedEntry], lease: EtcdLease, ignoringCancellation: Bool) async throws {
        if entries.count == 1, let entry = entries.first {
            try await self.put(entry.key, bytes: entry.value, lease: lease, ignoringCancellation: ignoringCancellation)
            return
        }
        var start = 0
        while start < entries.count {
            let batch = entries[start..<min(start + LeasedEntry.transactionSize, entries.count)]
            start += batch.count
            let request = WireTxnRequest(
                compare: [],
                success: batch.map { entry in
                    WireRequestOp(
                        request_put: WirePutRequest(
                            key: WireBytes(entry.key),
                            value: WireBytes(entry.value),
                            lease: WireInt64(lease.id)
                        )
                    )
                },
                failure: []
            )
            do {
                _ = try await self.transport.call(
                    "txn",
                    path: "/v3/kv/txn",
                    request,
                    as: WireTxnResponse.self,
                    ignoringCancellation: ignoringCancellation
                )
            } catch var error as EtcdError {
                let first = batch[batch.startIndex].key
                let keys = batch.count == 1 ? first : "\(first) to \(batch[batch.endIndex - 1].key)"
                error.message = "writing \(keys) (\(batch.count) keys in one transaction): \(error.message)"
                throw error
            }
        }
    }
}

/// A key and its value, written on a lease by a ``LeaseKeeper``.
struct LeasedEntry: Sendable {
    /// At most this many puts go into one transaction: etcd refuses more than `--max-txn-ops` operations per
    /// transaction, 128 by default.
    static let transactionSize = 128

    var key: String
    var value: [UInt8]
}

/// One registration's lease, with the keys written on it (one key, or a group's): renewed by a child task of
/// ``EtcdClient/run()``, every key written again on a new lease when it is lost, and revoked once, by the
/// registration's `cancel()` or at the end of `run()`, whichever comes first (the choreography of
/// `KeptAliveRegistration`).
final class LeaseKeeper: KeptAliveRegistration {
    let keepAliveState = KeepAliveState()
    private let client: EtcdClient
    private let entries: [LeasedEntry]
    /// The lease the keys are attached to now, and whether every key has been written on it (a group's writes take
    /// several transactions; one that failed after a lost lease is completed on the next renewal).
    private let current: Lock<(lease: EtcdLease, isComplete: Bool)>
    /// When the first lease was asked for: its TTL runs from then.
    private let grantedAt: ContinuousClock.Instant

    init(client: EtcdClient, entries: [LeasedEntry], lease: EtcdLease, grantedAt: ContinuousClock.Instant) {
        precondition(!entries.isEmpty, "a lease keeper keeps at least one key")
        self.client = client
        self.entries = entries
        self.current = Lock((lease, true))
        self.grantedAt = grantedAt
    }

    /// The lease the keys are attached to now.
    var lease: EtcdLease { self.current.withLock { $0.lease } }

    /// The key, or for a group the first key and how many there are, for logs.
    var label: String {
        let first = self.entries[0].key
        return self.entries.count == 1 ? first : "\(first) and \(self.entries.count - 1) more keys"
    }

    /// Renews the lease every third of its TTL until cancelled, the first time a third of the TTL after the grant
    /// (see ``RenewalSchedule``): one request per period, however many keys it holds.
    func renew() async {
        var schedule = RenewalSchedule(ttl: self.lease.ttl, registeredAt: self.grantedAt)
        while !Task.isCancelled {
            do {
                try await schedule.waitUntilDue()
                let (lease, isComplete) = self.current.withLock { $0 }
                if try await self.client.keepAlive(lease) == nil {
                    try await self.registerAgain()
                } else if !isComplete {
                    try await self.writeAll(on: lease)
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                self.client.logger.info(
                    "Renewing a registration lease failed; retrying",
                    metadata: ["beacon.etcd.key": "\(self.label)", "beacon.error": "\(error)"]
                )
            }
        }
    }

    /// Grants a new lease and writes every key again, after the old lease was lost.
    ///
    /// The requests go on if the keep-alive is stopped meanwhile, so that the new lease is recorded (and revoked by
    /// the withdrawal that follows) rather than left behind.
    private func registerAgain() async throws {
        let lost = self.lease
        self.client.logger.info(
            "Registration lease was lost; registering again",
            metadata: ["beacon.etcd.key": "\(self.label)", "beacon.etcd.lease": "\(lost.id)"]
        )
        let fresh = try await self.client.grantLease(ttl: lost.ttl, ignoringCancellation: true)
        self.current.withLock { $0 = (fresh, false) }
        try await self.writeAll(on: fresh)
    }

    /// Writes every key on a lease (going on if the keep-alive is stopped meanwhile), then records that the lease
    /// holds them all.
    private func writeAll(on lease: EtcdLease) async throws {
        try await self.client.write(self.entries, lease: lease, ignoringCancellation: true)
        self.current.withLock { current in
            if current.lease == lease { current.isComplete = true }
        }
    }

    /// Revokes the lease (even if the calling task is cancelled), which deletes every key on it, and forgets the
    /// registration.
    func release() async {
        let lease = self.lease
        do {
            try await self.client.revoke(lease, ignoringCancellation: true)
            self.client.logger.debug(
                "Withdrew a registration",
                metadata: ["beacon.etcd.key": "\(self.label)", "beacon.etcd.lease": "\(lease.id)"]
            )
        } catch {
            self.client.logger.debug(
                "Revoking a registration's lease failed; the keys expire with its TTL",
                metadata: ["beacon.etcd.key": "\(self.label)", "beacon.error": "\(error)"]
            )
        }
        self.client.lifecycle.remove(self)
    }
}
