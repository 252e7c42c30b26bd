// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
public import Synchronization

/// The run-time state of one service: idle, being built (with the callers waiting for it), or built.
///
/// A built shared service that nothing can invalidate is also *published*: its fast object's address is stored
/// in ``published``, which `get` reads with one acquiring load and no lock (see ``publishedObject()``).
@usableFromInline
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
        /// Whether `fast` is published in ``Slot/published``.
        var isPublished = false
        /// A fast object that was published and then invalidated: kept as long as the slot, because a reader may
        /// have loaded its address just before it was unpublished. A slot is unpublished at most once (it is then
        /// marked ``Slot/mayBeInvalidated`` and never published again), so this is at most one instance.
        var retired: AnyObject?
    }

    let state = Lock(State())
    /// The type of the service when it was registered with a typed closure: a typed `get` of that type can take
    /// the box without a cast.
    @usableFromInline let typeID: ObjectIdentifier?
    /// The address of the published fast object, or 0.
    ///
    /// Non-zero only while `state.fast` holds that object with `state.isPublished` set; it is stored (releasing)
    /// after the object is stored there, and cleared when the slot is invalidated, which moves the object to
    /// `state.retired`. Either way the slot keeps the object alive as long as the slot itself lives.
    @usableFromInline let published = Atomic<UInt>(0)
    /// Whether the slot can ever be invalidated: refreshable, built from such a slot, or reached once by an
    /// invalidation. Only ever set (never cleared); such slots are read under the lock instead of published.
    let mayBeInvalidated: Atomic<Bool>

    init(typeID: ObjectIdentifier?, refreshable: Bool) {
        self.typeID = typeID
        self.mayBeInvalidated = Atomic(refreshable)
    }

    /// The published fast object, if the slot has one, with a strong reference for the caller.
    ///
    /// Safe without the lock: a non-zero address names an object the slot holds strongly (in `state.fast`, or in
    /// `state.retired` once unpublished) until the slot is deallocated, and the slot lives as long as its
    /// container, which the caller of `get` holds. The acquiring load pairs with the releasing store in
    /// ``publish(_:)``, so the object's contents are visible.
    @inlinable
    @inline(__always)
    func publishedObject() -> AnyObject? {
        guard let address = UnsafeRawPointer(bitPattern: published.load(ordering: .acquiring)) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(address).takeUnretainedValue()
    }

    /// What a typed `get` hands out when the service is built and cannot be published (read under the lock).
    @usableFromInline
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

    /// Stores a completed build (under the caller's lock) and publishes it when nothing can invalidate it.
    func store(_ box: any ServiceBox, shared: Bool, in state: inout State) {
        let fast = box.fastObject
        state.phase = .built(box)
        state.fast = fast
        if shared && state.retired == nil && !mayBeInvalidated.load(ordering: .relaxed) {
            state.isPublished = true
            publish(fast)
        }
    }

    private func publish(_ object: AnyObject) {
        published.store(UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()), ordering: .releasing)
    }

    /// Forgets the built service (or marks a running build stale); returns the dependents to invalidate and the
    /// instance that was forgotten, if one was built.
    func invalidate() -> (dependents: Dependents, replaced: (any ServiceBox)?) {
        mayBeInvalidated.store(true, ordering: .relaxed)
        return state.withLock { state in
            var replaced: (any ServiceBox)?
            switch state.phase {
            case .built(let box):
                replaced = box
                state.phase = .idle
                if state.isPublished {
                    published.store(0, ordering: .releasing)
                    state.isPublished = false
                    state.retired = state.fast
                }
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
