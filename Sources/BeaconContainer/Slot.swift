// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The run-time state of one service: idle, being built (with the callers waiting for it), or built.
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
        var dependents: Set<Int> = []
        /// How many times the service was constructed (tests and logs).
        var constructions = 0
        /// The built service's ``ServiceBox/fastObject`` while it is built.
        var fast: AnyObject?
    }

    let state = Mutex(State())
    /// The type of the service when it was registered with a typed closure: a typed `get` of that type can take
    /// the box without a cast.
    let typeID: ObjectIdentifier?

    init(typeID: ObjectIdentifier?) {
        self.typeID = typeID
    }

    /// What a typed `get` hands out, if the service is built.
    @inline(__always)
    var fastObject: AnyObject? {
        state.withLock { $0.fast }
    }

    /// The built service, if any: the fast path of `get`.
    @inline(__always)
    var built: (any ServiceBox)? {
        state.withLock { state in
            if case .built(let box) = state.phase {
                return box
            }
            return nil
        }
    }

    func addDependent(_ slot: Int) {
        state.withLock { state in
            _ = state.dependents.insert(slot)
        }
    }

    /// Forgets the built service (or marks a running build stale) and returns the dependents to invalidate.
    func invalidate() -> Set<Int> {
        state.withLock { state in
            switch state.phase {
            case .built:
                state.phase = .idle
                state.fast = nil
            case .building(let generation, _):
                state.staleGeneration = generation
            case .idle:
                break
            }
            let dependents = state.dependents
            state.dependents = []
            return dependents
        }
    }
}
