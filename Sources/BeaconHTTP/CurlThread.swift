// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CBeaconCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// The I/O thread of one client (its own) or of an ``HTTPIOThread`` (shared): one thread for the loops of its
/// clients.
///
/// Sharing means one thread driving several multi handles, not one multi handle for several clients: each client
/// keeps its ``CurlLoop`` (multi handle, engine lock), so its timeouts, TLS settings, per-host connection limit and
/// idle connections stay its own, and its tasks still send their requests themselves whenever its engine is free.
/// The thread has one epoll set (``WakeableEpoll``) for the sockets of all its loops, each socket tagged with its
/// loop's number (a socket added from another thread reaches a wait already in progress), plus an eventfd for new
/// loops, loops asking for a turn, tasks that prefer the thread, and shutdown. When some of a loop's sockets are
/// ready, the loop asked for a turn or the moment it planned has come, the thread gives that loop one turn; it then
/// sleeps until the earliest moment any loop asked for.
///
/// A loop leaves the thread when its client is closed (``CurlLoop/closeNow(_:)`` wakes the loop, whose next turn
/// reports it closed and takes its sockets out of the set) or when the thread shuts down (which closes every loop
/// left).
///
/// `@unchecked Sendable` is safe because the mutable state shared between threads lives behind the three `Lock`s
/// (the inbox, the joinable thread, the job queue) and two atomics (whether the thread runs, and its identity); the
/// loops the thread drives, and the buffers it keeps, are local to its body; the epoll set is `Sendable` itself.
final class CurlThread: HTTPIOThreadCore, @unchecked Sendable {
    /// Messages for the thread, taken all at once on each turn.
    private struct Inbox {
        var attachments: [CurlLoop] = []
        var shutdownRequested = false
        /// Set by the thread when it took the shutdown request: no loop is taken any more.
        var closed = false
    }

    /// The epoll set the thread waits on, shared with its loops (which register their sockets in it).
    let set = WakeableEpoll()
    private let inbox = Lock(Inbox())
    /// The thread, until ``shutdown()`` joins it.
    private let thread = Lock<BeaconThread.Joinable?>(nil)
    /// Whether the thread runs.
    private let running = Atomic<Bool>(false)

    /// Jobs of tasks that prefer this thread (see `CurlThread+TaskExecutor.swift`).
    let jobs = Lock(JobQueue())

    /// The thread's `pthread_self()`, set when ``run()`` starts (0 before).
    let loopThread = Atomic<UInt>(0)

    /// Creates the epoll set and the eventfd and starts the thread.
    ///
    /// - Parameter name: The thread's name: `beacon-http` for a client's own, `beacon-http-io` for an
    ///   ``HTTPIOThread``'s.
    init(name: String) {
        self.running.store(true, ordering: .relaxed)
        let thread = BeaconThread.start(name: name) { self.run() }
        self.thread.withLock { $0 = thread }
    }

    // MARK: Any thread

    /// Hands a client's loop to the thread, which drives it from its next turn on.
    ///
    /// - Parameter loop: A new loop.
    /// - Returns: `false` when the thread is shut down (the loop was not taken).
    func attach(_ loop: CurlLoop) -> Bool {
        let outcome = self.inbox.withLock { inbox -> (accepted: Bool, wake: Bool) in
            guard !inbox.closed, !inbox.shutdownRequested else { return (false, false) }
            inbox.attachments.append(loop)
            return (true, inbox.attachments.count == 1)
        }
        if outcome.wake {
            self.wake()
        }
        return outcome.accepted
    }

    func shutdown() {
        let wake = self.inbox.withLock { inbox -> Bool in
            defer { inbox.shutdownRequested = true }
            return !inbox.shutdownRequested
        }
        if wake {
            self.wake()
        }
        let thread = self.thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        thread?.join()
    }

    var runningThreadCount: Int {
        self.running.load(ordering: .acquiring) ? 1 : 0
    }

    /// Ends the thread's `epoll_wait` (now, or at once if it is not waiting).
    func wake() {
        self.set.wake()
    }

    // MARK: The thread

    /// A loop the thread drives, when it needs its next turn at the latest, and its sockets that the last wait
    /// reported ready.
    private struct Driven {
        let loop: CurlLoop
        var deadline: MonotonicInstant
        var ready: [ReadySocket] = []
    }

    /// The thread's body: turns the loops that have work until ``shutdown()``, then closes the loops left.
    private func run() {
        self.loopThread.store(pthread_self(), ordering: .releasing)
        defer {
            self.closeJobQueue()
            self.running.store(false, ordering: .releasing)
        }
        // A handful of loops at most: an array scanned in order costs less than hashing.
        var loops: [Driven] = []
        let capacity = 64
        var tags = [UInt64](repeating: 0, count: capacity)
        var events = [UInt32](repeating: 0, count: capacity)
        var reported = 0
        var jobs: [UnownedJob] = []
        while true {
            if tags[0..<reported].contains(WakeableEpoll.wakeUpTag) {
                self.set.drain()
            }
            let messages = self.inbox.withLock { inbox in
                let taken = inbox
                inbox.attachments = []
                if inbox.shutdownRequested {
                    inbox.closed = true
                }
                return taken
            }
            for loop in messages.attachments {
                loops.append(Driven(loop: loop, deadline: .origin))
            }
            if messages.shutdownRequested {
                for driven in loops {
                    driven.loop.closeNow(.ioThreadShutDown)
                }
                break
            }
            for index in 0..<reported where tags[index] != WakeableEpoll.wakeUpTag {
                let (number, socket) = WakeableEpoll.parts(of: tags[index])
                // A socket of a loop that left in an earlier turn (reported by the same wait) is not looked at.
                if let owner = loops.firstIndex(where: { $0.loop.number == number }) {
                    loops[owner].ready.append(ReadySocket(socket: socket, events: events[index]))
                    loops[owner].deadline = .origin
                }
            }
            for index in loops.indices where loops[index].loop.takeTurnRequest() {
                loops[index].deadline = .origin
            }
            let now = MonotonicInstant.now
            var deadline = now.adding(milliseconds: 1000)
            var index = 0
            while index < loops.count {
                if !(now < loops[index].deadline) {
                    let next = loops[index].loop.turn(ready: loops[index].ready)
                    loops[index].ready.removeAll(keepingCapacity: true)
                    guard let next else {
                        // Closed by its client: the loop leaves the thread.
                        loops.remove(at: index)
                        continue
                    }
                    loops[index].deadline = next
                }
                deadline = min(deadline, loops[index].deadline)
                index += 1
            }
            // Tasks resumed in this turn and preferring this thread run now, outside the loops' engine locks; jobs
            // they queued in turn run in the next turn, which then starts without sleeping.
            let jobsWaiting = self.runJobs(swappingWith: &jobs)
            let timeout = jobsWaiting ? 0 : Int32(clamping: MonotonicInstant.now.milliseconds(until: deadline))
            let count = tags.withUnsafeMutableBufferPointer { tags in
                events.withUnsafeMutableBufferPointer { events in
                    cbeacon_epoll_wait(self.set.epoll, tags.baseAddress!, events.baseAddress!, Int32(capacity), timeout)
                }
            }
            reported = max(0, Int(count))  // -1 with EINTR: just turn again
        }
    }
}
