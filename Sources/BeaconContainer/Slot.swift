// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// The run-time state of one service: idle, being built (with the callers waiting for it), or built.
///
/// Everything in it is read and written under its ``Lock``, the typed `get` of a built service included
/// (``Container/builtObject(_:_:)``).
final class Slot: Sendable {
    typealias Waiter = CheckedContinuation<(any ServiceBox)?, any Error>

    enum Phase {
        case idle
        case building(generation: UInt64, waiters: [Waiter])
        case built(any ServiceBox)
    }

    struct State {
        var phase = Phase.idle
        /// Counts builds; a waiter remembers the build it waits for.
        var generation: UInt64 = 0
        /// The error of the last failed build, for waiters that arrive after it failed.
        var failure: (generation: UInt64, error: any Error)?
        /// A build that was invalidated while it ran: its result is handed out but not kept.
        var staleGeneration: UInt64?
        /// Slots built from this one since it was last invalidated.
        var dependents = Dependents()
        /// How many times the service was constructed (tests and logs).
        var constructions = 0
        /// The built service's ``ServiceBox/fastObject`` while it is built.
        var fast: AnyObject?
    }

    let state = Lock(State())
    /// The type of the service when it was registered with a typed closure: a typed `get` of that type can take
    /// the box without a cast.
    let typeID: ObjectIdentifier?

    init(typeID: ObjectIdentifier?) {
        self.typeID = typeID
    }

    /// The built service's ``ServiceBox/fastObject``, if it is built (read under the lock).
    var lockedFastObject: AnyObject? {
        state.withLock { $0.fast }
    }

    /// The built service, if any.
    var built: (any ServiceBox)? {
        state.withLock { state in
            if case .built(let box) = state.phase {
                return box
            }
            return nil
        }
    }

    /// What `resolve` does next for a shared or refreshable service.
    enum Claim {
        /// Take the built service.
        case done(any ServiceBox)
        /// Wait for the running build with this generation.
        case wait(UInt64)
        /// Build it: this caller claimed the build with this generation.
        case build(UInt64)
    }

    /// Takes the built service, joins the running build, or claims a new one.
    func claim() -> Claim {
        state.withLock { state in
            switch state.phase {
            case .built(let box):
                return .done(box)
            case .building(let generation, _):
                return .wait(generation)
            case .idle:
                state.generation += 1
                state.constructions += 1
                state.phase = .building(generation: state.generation, waiters: [])
                return .build(state.generation)
            }
        }
    }

    /// Records `slot` as built from this one.
    func addDependent(_ slot: Int) {
        state.withLock { state in
            state.dependents.insert(slot)
        }
    }

    /// Stores a completed build (under the caller's lock).
    func store(_ box: any ServiceBox, in state: inout State) {
        state.phase = .built(box)
        state.fast = box.fastObject
    }

    /// Forgets the built service (or marks a running build stale); returns the dependents to invalidate and the
    /// instance that was forgotten, if one was built.
    func invalidate() -> (dependents: Dependents, replaced: (any ServiceBox)?) {
        state.withLock { state in
            var replaced: (any ServiceBox)?
            switch state.phase {
            case .built(let box):
                replaced = box
                state.phase = .idle
                state.fast = nil
            case .building(let generation, _):
                state.staleGeneration = generation
            case .idle:
                break
            }
            let dependents = state.dependents
            state.dependents = Dependents()
            return (dependents, replaced)
        }
    }
}
