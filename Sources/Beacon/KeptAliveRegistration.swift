// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// A registration that a registry keeps alive in its swift-service-lifecycle `run()` (an etcd lease, a Consul TTL
/// check): the keep-alive runs as a child task of `run()` until it is stopped, and the registration is withdrawn once,
/// by its `cancel()` or at the end of `run()`, whichever comes first.
///
/// A conforming type supplies the work (``renew()``, ``release()``) and a ``KeepAliveState``; this protocol's
/// extension supplies the choreography, so every registry stops, waits and withdraws the same way.
package protocol KeptAliveRegistration: AnyObject, Sendable {
    /// The keep-alive's and the withdrawal's progress.
    var keepAliveState: KeepAliveState { get }

    /// Keeps the registration alive until the calling task is cancelled (renewals every third of the TTL, registering
    /// again when the store lost it).
    func renew() async

    /// Removes the registration from the store (a request that goes on even if the calling task is cancelled), and
    /// from the registry's ``KeepAliveLifecycle``.
    func release() async
}

/// The state of a ``KeptAliveRegistration``'s keep-alive and withdrawal.
package final class KeepAliveState: Sendable {
    fileprivate enum KeepAlive {
        /// Handed to `run()`, which has not started it yet.
        case pending
        /// Running.
        case running
        /// Ended, or never to start (stopped while pending).
        case finished
    }

    fileprivate enum Withdrawal {
        case none
        /// The first caller is withdrawing; the others wait for it.
        case inProgress
        case done
    }

    fileprivate struct State {
        var stopRequested = false
        /// The keep-alive's wait for `requestStop()`.
        var stopWaiters = Waiters()
        /// The tasks waiting for the keep-alive to end.
        var endWaiters = Waiters()
        /// The tasks waiting for the first caller's withdrawal to end.
        var withdrawalWaiters = Waiters()

        var isRunning: Bool {
            if case .running = self.keepAlive { return true }
            return false
        }

        var isWithdrawing: Bool {
            if case .inProgress = self.withdrawal { return true }
            return false
        }
        var keepAlive = KeepAlive.pending
        var withdrawal = Withdrawal.none
    }

    fileprivate let state = Lock(State())

    package init() {}
}

extension KeptAliveRegistration {
    /// Runs ``renew()`` until ``requestStop()`` or until the calling task is cancelled; returns at once when the
    /// registration was stopped before `run()` reached it.
    ///
    /// The renewals and a wait for ``requestStop()`` run as two children; whichever ends first cancels the other, so a
    /// stop ends the renewals at once (aborting a renewal in flight) without cancelling `run()`'s other children.
    package func keepAlive() async {
        let start = self.keepAliveState.state.withLock { state in
            guard case .pending = state.keepAlive, !state.stopRequested else {
                state.keepAlive = .finished
                return false
            }
            state.keepAlive = .running
            return true
        }
        guard start else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renew() }
            group.addTask { await self.waitUntilStopped() }
            await group.next()
            group.cancelAll()
        }
        let waiters = self.keepAliveState.state.withLock { state in
            state.keepAlive = .finished
            return state.endWaiters.removeAll()
        }
        waiters.resume()
    }

    /// Waits until ``requestStop()`` is called or the calling task is cancelled.
    private func waitUntilStopped() async {
        await self.keepAliveState.state.wait(in: \.stopWaiters) { $0.stopRequested }
    }

    /// Ends the keep-alive without waiting: at once if it runs, or as soon as `run()` reaches it. Does not withdraw.
    package func requestStop() {
        let waiters = self.keepAliveState.state.withLock { state in
            state.stopRequested = true
            return state.stopWaiters.removeAll()
        }
        waiters.resume()
    }

    /// Ends the keep-alive and waits until it has ended (when it was running).
    private func stop() async {
        self.requestStop()
        await self.keepAliveState.state.wait(in: \.endWaiters, cancellable: false) { !$0.isRunning }
    }

    /// Stops the keep-alive, then ``release()``s the registration (even if the calling task is cancelled).
    ///
    /// Only the first call does the work; later and concurrent calls return when it is done.
    package func withdraw() async {
        let keepAliveState = self.keepAliveState
        let leads = keepAliveState.state.withLock { state -> Bool? in
            switch state.withdrawal {
            case .none:
                state.withdrawal = .inProgress
                return true
            case .inProgress: return false
            case .done: return nil
            }
        }
        guard let leads else { return }
        guard leads else {
            await keepAliveState.state.wait(in: \.withdrawalWaiters, cancellable: false) { !$0.isWithdrawing }
            return
        }
        await self.stop()
        await self.release()
        let waiters = keepAliveState.state.withLock { state in
            state.withdrawal = .done
            return state.withdrawalWaiters.removeAll()
        }
        waiters.resume()
    }
}

/// Whether a registry's `run()` started, and the registrations whose keep-alives it runs.
///
/// Registrations reach `run()` through an unbounded stream of their identifiers, so that those made before `run()`
/// starts wait in the stream's buffer; the registrations themselves are kept here until they are withdrawn or the
/// registry stops accepting them.
package final class KeepAliveLifecycle: Sendable {
    package enum Start {
        case started
        case alreadyStarted
        /// The registry was closed before `run()` started: there is nothing to run.
        case closed
    }

    private struct State {
        var runStarted = false
        var accepting = true
        var live: [ObjectIdentifier: any KeptAliveRegistration] = [:]
    }

    private let state = Lock(State())
    /// The registrations for `run()` to keep alive, in the order they were made.
    package let registrations: AsyncStream<ObjectIdentifier>
    private let continuation: AsyncStream<ObjectIdentifier>.Continuation

    package init() {
        (self.registrations, self.continuation) = AsyncStream.makeStream(of: ObjectIdentifier.self)
    }

    /// Records that `run()` started.
    package func start() -> Start {
        self.state.withLock { state in
            if state.runStarted { return .alreadyStarted }
            state.runStarted = true
            return state.accepting ? .started : .closed
        }
    }

    /// Whether registrations are still accepted (neither `run()` ended nor the registry closed).
    package var isAccepting: Bool { self.state.withLock { $0.accepting } }

    /// Adds a registration for `run()` to keep alive; `false` once registrations are no longer accepted.
    package func add(_ registration: any KeptAliveRegistration) -> Bool {
        self.state.withLock { state in
            guard state.accepting else { return false }
            state.live[ObjectIdentifier(registration)] = registration
            // Yielded under the lock, so that finish() cannot finish the stream between the check and the yield.
            self.continuation.yield(ObjectIdentifier(registration))
            return true
        }
    }

    /// The live registration with an identifier, unless it was withdrawn meanwhile.
    package func registration(_ id: ObjectIdentifier) -> (any KeptAliveRegistration)? {
        self.state.withLock { $0.live[id] }
    }

    /// Forgets a withdrawn registration.
    package func remove(_ registration: any KeptAliveRegistration) {
        _ = self.state.withLock { $0.live.removeValue(forKey: ObjectIdentifier(registration)) }
    }

    /// Stops accepting registrations and ends the stream; returns the registrations still live (once: later calls
    /// return none).
    package func finish() -> [any KeptAliveRegistration] {
        let live = self.state.withLock { state in
            state.accepting = false
            defer { state.live = [:] }
            return Array(state.live.values)
        }
        self.continuation.finish()
        return live
    }

    /// Runs the keep-alive of every registration, made before or while this runs, as child tasks, until the calling
    /// task is cancelled or ``finish()`` is called.
    package func keepAll() async {
        await withDiscardingTaskGroup { group in
            for await id in self.registrations {
                guard let registration = self.registration(id) else { continue }
                group.addTask { await registration.keepAlive() }
            }
        }
    }

    /// Stops accepting registrations and withdraws those still live, concurrently (each goes on if the calling task
    /// is cancelled).
    package func withdrawAll() async {
        let live = self.finish()
        await withDiscardingTaskGroup { group in
            for registration in live {
                group.addTask { await registration.withdraw() }
            }
        }
    }
}
