// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

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
/// once, by the registration's `cancel()` or at the end of `run()`, whichever comes first.
///
/// The keep-alive runs as two children: the renewal loop and a wait for ``requestStop()``; whichever ends first
/// cancels the other, so a stop ends the renewals at once (aborting a renewal in flight) without cancelling
/// `run()`'s other children.
final class LeaseKeeper: Sendable {
    private enum KeepAlive {
        /// Handed to `run()`, which has not started it yet.
        case pending
        /// Running; the tasks waiting for it to end.
        case running([CheckedContinuation<Void, Never>])
        /// Ended, or never to start (stopped while pending).
        case finished
    }

    private enum Withdrawal {
        case none
        /// The first caller is revoking the lease; the others wait here.
        case inProgress([CheckedContinuation<Void, Never>])
        case done
    }

    private struct State {
        var lease: EtcdLease
        var stopRequested = false
        /// The keep-alive's wait for ``requestStop()``.
        var stopWaiter: CheckedContinuation<Void, Never>?
        var keepAlive = KeepAlive.pending
        var withdrawal = Withdrawal.none
    }

    private let client: EtcdClient
    private let key: String
    private let value: [UInt8]
    private let state: Mutex<State>

    init(client: EtcdClient, key: String, value: [UInt8], lease: EtcdLease) {
        self.client = client
        self.key = key
        self.value = value
        self.state = Mutex(State(lease: lease))
    }

    /// The lease the key is attached to now.
    var lease: EtcdLease { self.state.withLock { $0.lease } }

    // MARK: Keep-alive (a child task of run())

    /// Renews the lease until ``requestStop()`` or until the calling task is cancelled; returns at once when the
    /// registration was stopped before `run()` reached it.
    func keepAlive() async {
        let start = self.state.withLock { state in
            guard case .pending = state.keepAlive, !state.stopRequested else {
                state.keepAlive = .finished
                return false
            }
            state.keepAlive = .running([])
            return true
        }
        guard start else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renew() }
            group.addTask { await self.waitUntilStopped() }
            await group.next()
            group.cancelAll()
        }
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.keepAlive = .finished }
            guard case .running(let waiters) = state.keepAlive else { return [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Renews the lease every third of its TTL until cancelled.
    private func renew() async {
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
        self.state.withLock { $0.lease = fresh }
        try await self.client.put(self.key, bytes: self.value, lease: fresh, ignoringCancellation: true)
    }

    /// Waits until ``requestStop()`` is called or the calling task is cancelled.
    private func waitUntilStopped() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    // Checked under the lock: `Task.isCancelled` is set before the cancellation handler runs.
                    if state.stopRequested || Task.isCancelled { return true }
                    state.stopWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                defer { state.stopWaiter = nil }
                return state.stopWaiter
            }
            waiter?.resume()
        }
    }

    // MARK: Stopping

    /// Ends the keep-alive without waiting: at once if it runs, or as soon as `run()` reaches it. Does not revoke.
    func requestStop() {
        let waiter = self.state.withLock { state in
            state.stopRequested = true
            defer { state.stopWaiter = nil }
            return state.stopWaiter
        }
        waiter?.resume()
    }

    /// Ends the keep-alive and waits until it has ended (when it was running).
    private func stop() async {
        self.requestStop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let endedAlready = self.state.withLock { state in
                guard case .running(var waiters) = state.keepAlive else { return true }
                waiters.append(continuation)
                state.keepAlive = .running(waiters)
                return false
            }
            if endedAlready { continuation.resume() }
        }
    }

    /// Stops the keep-alive, revokes the lease (even if the calling task is cancelled) and forgets the registration.
    ///
    /// Only the first call does the work; later and concurrent calls return when it is done.
    func withdraw() async {
        let leads = self.state.withLock { state -> Bool? in
            switch state.withdrawal {
            case .none:
                state.withdrawal = .inProgress([])
                return true
            case .inProgress: return false
            case .done: return nil
            }
        }
        guard let leads else { return }
        guard leads else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let doneAlready = self.state.withLock { state in
                    guard case .inProgress(var waiters) = state.withdrawal else { return true }
                    waiters.append(continuation)
                    state.withdrawal = .inProgress(waiters)
                    return false
                }
                if doneAlready { continuation.resume() }
            }
            return
        }

        await self.stop()
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
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.withdrawal = .done }
            guard case .inProgress(let waiters) = state.withdrawal else { return [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
