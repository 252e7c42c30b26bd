// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import ServiceLifecycle

/// What happens to built instances after they are built: the ones that are `Service`s are run by
/// ``Container/run()``, and the ones replaced by a rebuild are closed once nobody uses them (see
/// ``ClosableService``).
///
/// The state machine is plain data under one lock; ``Container/run()`` consumes the events in its task group.
final class InstanceLifetimes: Sendable {
    enum Event: Sendable {
        /// A built instance is a `Service`: run it until ``stop`` fires or the container stops.
        case started(id: String, service: any Service, stop: ChangeSignal)
        /// An instance was replaced: close it when it is unused and its grace period is over.
        case retired(RetiredInstance)
    }

    /// An instance replaced by a rebuild, held until it is closed.
    struct RetiredInstance: Sendable {
        let id: String
        let box: any ServiceBox
        let retiredAt: ContinuousClock.Instant
    }

    /// An instance that was closed or is being closed: remembered while it lives, so that a scoped use of it
    /// (taken just before it was retired) is refused.
    private struct Closing {
        weak var box: (any ServiceBox)?
    }

    private struct State {
        /// Scoped users per instance in use.
        var users: [ObjectIdentifier: Int] = [:]
        /// Closers waiting for an instance's last scoped user.
        var idleWaiters: [ObjectIdentifier: [CheckedContinuation<Void, Never>]] = [:]
        var closing: [ObjectIdentifier: Closing] = [:]
        /// The stop events of instances that are running as services.
        var running: [ObjectIdentifier: ChangeSignal] = [:]
    }

    private let state = Lock(State())
    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    let gracePeriod: Duration

    init(gracePeriod: Duration) {
        self.gracePeriod = gracePeriod
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Notes a freshly stored instance: a `Service` is handed to ``Container/run()`` to be run.
    func built(_ box: any ServiceBox, id: String) {
        guard LifetimeTraits.of(box.anyValue).isService, let service = box.anyValue as? any Service else { return }
        let stop = ChangeSignal()
        state.withLock { $0.running[ObjectIdentifier(box)] = stop }
        continuation.yield(.started(id: id, service: service, stop: stop))
    }

    /// Notes that an instance was replaced; one that needs closing or stopping is handed to ``Container/run()``.
    func retired(_ box: any ServiceBox, id: String) {
        let isRunning = state.withLock { $0.running[ObjectIdentifier(box)] != nil }
        guard isRunning || LifetimeTraits.of(box.anyValue).isClosable else { return }
        continuation.yield(.retired(RetiredInstance(id: id, box: box, retiredAt: .now)))
    }

    /// Ends the event stream: ``Container/run()`` is stopping.
    func finish() {
        continuation.finish()
    }

    // MARK: Scoped users

    /// Counts a scoped user of `box`; `false` when the instance is already being closed (take a fresh one).
    func beginUse(_ box: any ServiceBox) -> Bool {
        let id = ObjectIdentifier(box)
        return state.withLock { state in
            if let closing = state.closing[id], closing.box === box {
                return false
            }
            state.users[id, default: 0] += 1
            return true
        }
    }

    /// Ends a scoped use of `box`, waking the closer waiting for its last user.
    func endUse(_ box: any ServiceBox) {
        let id = ObjectIdentifier(box)
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            let remaining = (state.users[id] ?? 1) - 1
            guard remaining == 0 else {
                state.users[id] = remaining
                return []
            }
            state.users[id] = nil
            return state.idleWaiters.removeValue(forKey: id) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Closing

    /// Waits until `box` has no scoped user, then claims it for closing.
    ///
    /// - Returns: `true` for the one caller that claimed it; `false` when it was claimed before.
    func claimForClosing(_ box: any ServiceBox) async -> Bool {
        let id = ObjectIdentifier(box)
        while true {
            enum Step {
                case claimed, alreadyClaimed, wait
            }
            let step: Step = state.withLock { state in
                if let closing = state.closing[id], closing.box === box {
                    return .alreadyClaimed
                }
                guard state.users[id] == nil else { return .wait }
                state.closing = state.closing.filter { $0.value.box != nil }
                state.closing[id] = Closing(box: box)
                return .claimed
            }
            switch step {
            case .claimed: return true
            case .alreadyClaimed: return false
            case .wait:
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let idle = state.withLock { state in
                        guard state.users[id] != nil else { return true }
                        state.idleWaiters[id, default: []].append(waiter)
                        return false
                    }
                    if idle {
                        waiter.resume()
                    }
                }
            }
        }
    }

    /// Closes an instance once it is unused (if it is a ``ClosableService``) and stops it (if it runs as a
    /// service); does nothing when another caller did it already.
    ///
    /// - Returns: `true` when this call closed or stopped it.
    @discardableResult
    func close(_ box: any ServiceBox) async -> Bool {
        guard await claimForClosing(box) else { return false }
        if let closable = box.anyValue as? any ClosableService {
            await closable.close()
        }
        let stop = state.withLock { $0.running.removeValue(forKey: ObjectIdentifier(box)) }
        stop?.signal()
        return true
    }
}

/// Whether instances of a type are `Service`s or ``ClosableService``s, remembered per type: a dynamic cast to a
/// protocol costs a few hundred nanoseconds, which every construction would otherwise pay.
enum LifetimeTraits {
    struct Traits {
        var isService: Bool
        var isClosable: Bool
    }

    private static let known = Lock<[ObjectIdentifier: Traits]>([:])

    static func of(_ value: any Sendable) -> Traits {
        let type = ObjectIdentifier(Swift.type(of: value))
        if let traits = known.withLock({ $0[type] }) {
            return traits
        }
        let traits = Traits(isService: value is any Service, isClosable: value is any ClosableService)
        known.withLock { $0[type] = traits }
        return traits
    }
}
