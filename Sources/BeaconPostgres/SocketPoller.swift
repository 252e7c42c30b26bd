// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// One dedicated thread that waits for sockets to become readable or writable and resumes the waiting tasks.
///
/// libpq's calls are non-blocking once a connection is in non-blocking mode; only the waits for the socket would
/// block. Tasks make the libpq calls themselves and hand each wait to this thread, which runs `poll(2)` over every
/// registered socket plus a pipe used to wake it when a registration changes. No thread of the cooperative pool
/// ever sits in `poll`.
///
/// There is one poller per process (``shared``), and its thread runs only while a connection needs it: every
/// connection, from the start of its connect until it is closed (or deinitialized), holds a ``Claim``, and the thread
/// is started by the claim that finds none running and exits once the last claim is gone. So a process with no open
/// PostgreSQL connection has no poll thread, whichever factories or pools exist, and a query never starts one: only a
/// connect after the last connection was closed does. The thread is named `beacon-pg-poll`.
final class SocketPoller: Sendable {
    /// A connection's hold on the poll thread: the thread runs while at least one claim is alive.
    ///
    /// A ``ConnectionHandle`` carries its connection's claim, so the claim ends when the handle's last copy is
    /// dropped, after `PQfinish`.
    final class Claim: Sendable {
        private let poller: SocketPoller

        fileprivate init(_ poller: SocketPoller) {
            self.poller = poller
            poller.addClaim()
        }

        deinit {
            self.poller.removeClaim()
        }
    }

    /// What a wait is for, and what a socket turned out to be ready for.
    struct Events: OptionSet, Sendable {
        let rawValue: Int16
        static let read = Events(rawValue: Int16(POLLIN))
        static let write = Events(rawValue: Int16(POLLOUT))
    }

    /// How a wait ended without an error.
    enum Outcome: Sendable, Equatable {
        /// The socket is ready for (some of) these events, or has an error or hang-up pending (reported as both).
        case ready(Events)
        /// The deadline passed first.
        case timedOut
    }

    /// Why a wait was cut short by ``interrupt(_:)``.
    struct Interrupted: Error {}

    private struct Registration {
        var socket: Int32
        var events: Events
        var deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var registrations: [UInt64: Registration] = [:]
        /// Interruptions that arrived before their wait was registered; its count is mirrored in
        /// ``SocketPoller/pendingInterruptions``.
        var interrupted: Set<UInt64> = []
        /// The live ``Claim``s: the thread runs while there is one.
        var claims = 0
        /// Whether a thread runs (or is starting). Set by the claim that starts it, cleared by the thread itself, under
        /// the lock, in the same critical section in which it decides to exit.
        var threadRunning = false
        /// The wake-up pipe of the running thread (read end, write end): made by the claim that starts the thread,
        /// closed by the thread as it exits, both under the lock, so that a write never reaches a closed descriptor.
        var wakePipe: (read: Int32, write: Int32)?
        /// Whether a byte was written to the wake-up pipe since the thread last took the registrations: one byte
        /// wakes the thread, so the waits registered meanwhile write none.
        var wakePending = false
    }

    /// The process-wide poller; its thread runs while a connection holds a ``Claim``.
    static let shared = SocketPoller()

    /// The poller's state. (A poller's thread starts with the first ``claim()``; the process uses ``shared``, tests
    /// make their own.)
    private let state = Lock(State())
    /// The last identifier ``makeID()`` handed out. An atomic counter, not a field of ``state``: every socket wait takes
    /// one, and the poller's lock is contended under concurrent queries.
    private let lastID = Atomic<UInt64>(0)
    /// How many interruptions wait in `State.interrupted`, changed under the lock with it; read without the lock by
    /// ``forget(_:)``, which after nearly every wait has nothing to forget.
    private let pendingInterruptions = Atomic<Int>(0)

    /// Claims the poll thread for a connection, starting it if none runs.
    ///
    /// - Returns: The claim; the thread may stop once it and every other claim are gone.
    func claim() -> Claim {
        Claim(self)
    }

    /// Whether the poll thread runs now (or is about to exit, having seen the last claim go).
    var isThreadRunning: Bool { self.state.withLock { $0.threadRunning } }

    private func addClaim() {
        let start = self.state.withLock { state in
            state.claims += 1
            guard !state.threadRunning else { return false }
            state.threadRunning = true
            state.wakePipe = Self.makePipe()
            return true
        }
        guard start else { return }
        let started = BeaconThread.detach(name: "beacon-pg-poll") { self.run() }
        precondition(started, "no thread could be started for the PostgreSQL socket poller")
    }

    private func removeClaim() {
        let last = self.state.withLock { state in
            state.claims -= 1
            return state.claims == 0
        }
        // The thread sees that no claim is left when it wakes up, and exits.
        if last { self.wake() }
    }

    /// A new identifier for a wait, so that ``interrupt(_:)`` can name it before the wait is registered.
    func makeID() -> UInt64 {
        self.lastID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Suspends the calling task until a socket is ready, a deadline passes, or the wait is interrupted.
    ///
    /// - Parameters:
    ///   - id: An identifier from ``makeID()``.
    ///   - socket: The descriptor to watch; it must stay open until the wait returns.
    ///   - events: What to wait for.
    ///   - deadline: When to give up, or `nil` to wait without limit.
    /// - Returns: What the socket is ready for, or ``Outcome/timedOut``.
    /// - Throws: `CancellationError` when the task is cancelled, ``Interrupted`` after ``interrupt(_:)``.
    func wait(
        id: UInt64,
        socket: Int32,
        for events: Events,
        until deadline: ContinuousClock.Instant?
    ) async throws -> Outcome {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
                let early: (any Error)? = self.state.withLock { state in
                    if Task.isCancelled { return CancellationError() }
                    if state.interrupted.remove(id) != nil {
                        self.pendingInterruptions.subtract(1, ordering: .relaxed)
                        return Interrupted()
                    }
                    assert(state.claims > 0, "a socket wait outside any connection's claim on the poll thread")
                    state.registrations[id] = Registration(
                        socket: socket,
                        events: events,
                        deadline: deadline,
                        continuation: continuation
                    )
                    Self.wake(&state)
                    return nil
                }
                if let early { continuation.resume(throwing: early) }
            }
        } onCancel: {
            let registration = self.state.withLock { $0.registrations.removeValue(forKey: id) }
            if let registration {
                registration.continuation.resume(throwing: CancellationError())
                self.wake()
            }
        }
    }

    /// Ends a wait at once with ``Interrupted``; if the wait has not started yet, it ends as soon as it does.
    ///
    /// - Parameter id: The wait's identifier.
    func interrupt(_ id: UInt64) {
        let registration = self.state.withLock { state in
            guard let registration = state.registrations.removeValue(forKey: id) else {
                if state.interrupted.insert(id).inserted { self.pendingInterruptions.add(1, ordering: .relaxed) }
                return nil as Registration?
            }
            return registration
        }
        if let registration {
            registration.continuation.resume(throwing: Interrupted())
            self.wake()
        }
    }

    /// Forgets an interruption that arrived for a wait that will never start.
    ///
    /// Without the lock when no interruption is pending, the case after nearly every wait. An ``interrupt(_:)`` that
    /// races with it may then stay recorded, as it also would had it come just after a locked `forget`: identifiers
    /// are never reused, so a stale one only takes a set entry.
    ///
    /// - Parameter id: The wait's identifier.
    func forget(_ id: UInt64) {
        guard self.pendingInterruptions.load(ordering: .relaxed) > 0 else { return }
        self.state.withLock { state in
            if state.interrupted.remove(id) != nil { self.pendingInterruptions.subtract(1, ordering: .relaxed) }
        }
    }

    private func wake() {
        self.state.withLock { Self.wake(&$0) }
    }

    /// Wakes the thread, under the lock: writes a byte to the pipe unless one was written since the thread last took
    /// the registrations (it then takes them again anyway).
    private static func wake(_ state: inout State) {
        guard let pipe = state.wakePipe, !state.wakePending else { return }
        state.wakePending = true
        var byte: UInt8 = 1
        // A full pipe already guarantees a wake-up, so a failed write (EAGAIN) is fine.
        _ = write(pipe.write, &byte, 1)
    }

    /// A non-blocking pipe whose descriptors are closed on `exec`.
    private static func makePipe() -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        let created = pipe(&descriptors)
        precondition(created == 0, "pipe failed with errno \(errno)")
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        return (descriptors[0], descriptors[1])
    }

    /// What the thread does next.
    private enum Turn {
        /// Poll until a socket is ready or the earliest deadline (`nil`: none) passes.
        case poll(until: ContinuousClock.Instant?)
        /// No claim and no wait is left: end the thread.
        case exit
    }

    /// The thread's body: poll, then resume whoever is ready or past their deadline, until no claim is left.
    private func run() {
        // Set by the claim that started this thread; closed only below, by this thread, as it exits.
        guard let wakeDescriptor = self.state.withLock({ $0.wakePipe?.read }) else {
            preconditionFailure("the poll thread started without its wake-up pipe")
        }
        var descriptors: [pollfd] = []
        var ids: [UInt64] = []
        while true {
            descriptors.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0))
            let turn = self.state.withLock { state -> Turn in
                if state.claims == 0 && state.registrations.isEmpty {
                    // Decided under the lock, so that a new claim either sees the thread running (and this thread
                    // then sees the claim) or starts a new thread.
                    state.threadRunning = false
                    if let pipe = state.wakePipe {
                        close(pipe.read)
                        close(pipe.write)
                    }
                    state.wakePipe = nil
                    state.wakePending = false
                    return .exit
                }
                // Registrations from now on are not in this turn's list: they wake the thread again.
                state.wakePending = false
                var earliest: ContinuousClock.Instant?
                for (id, registration) in state.registrations {
                    ids.append(id)
                    descriptors.append(
                        pollfd(fd: registration.socket, events: registration.events.rawValue, revents: 0)
                    )
                    if let deadline = registration.deadline {
                        earliest = earliest.map { min($0, deadline) } ?? deadline
                    }
                }
                return .poll(until: earliest)
            }
            guard case .poll(let earliest) = turn else { return }
            var timeout: Int32 = -1
            if let earliest {
                let remaining = ContinuousClock.now.duration(to: earliest)
                if remaining <= .zero {
                    timeout = 0
                } else {
                    let (seconds, attoseconds) = remaining.components
                    let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
                    timeout = Int32(clamping: milliseconds)
                }
            }
            let count = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if count < 0 && errno != EINTR {
                fatalError("poll failed with errno \(errno)")
            }
            if descriptors[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                while read(wakeDescriptor, &buffer, buffer.count) > 0 {}
            }
            let now = ContinuousClock.now
            let finished = self.state.withLock { state -> [(CheckedContinuation<Outcome, any Error>, Outcome)] in
                var finished: [(CheckedContinuation<Outcome, any Error>, Outcome)] = []
                for (index, id) in ids.enumerated() {
                    let revents = descriptors[index + 1].revents
                    guard let registration = state.registrations[id] else { continue }
                    if revents != 0 {
                        var ready = Events(rawValue: revents).intersection([.read, .write])
                        if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { ready = [.read, .write] }
                        state.registrations[id] = nil
                        finished.append((registration.continuation, .ready(ready)))
                    } else if let deadline = registration.deadline, deadline <= now {
                        state.registrations[id] = nil
                        finished.append((registration.continuation, .timedOut))
                    }
                }
                return finished
            }
            for (continuation, outcome) in finished {
                continuation.resume(returning: outcome)
            }
        }
    }
}
