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
/// keeps its ``CurlLoop`` (multi handle, engine lock, epoll set, wake-up eventfd), so its timeouts, TLS settings,
/// per-host connection limit and idle connections stay its own, and its tasks still send their requests themselves
/// whenever its engine is free. The thread holds each loop's epoll set in its own (an epoll set is readable when one
/// of its descriptors is, and a socket added to it from another thread reaches a wait already in progress), plus
/// its own eventfd for new loops, tasks that prefer the thread, and shutdown. When a loop's set is readable or the
/// moment the loop asked for has come, the thread gives that loop one turn; it then sleeps until the earliest
/// moment any loop asked for.
///
/// A client's own thread (``init(name:dedicated:)`` with `dedicated`) drives that client's loop alone, and waits on
/// the loop's epoll set itself, with its own eventfd added to that set: the nested set would cost a second
/// `epoll_wait` on every turn (to learn which of the loop's sockets are ready), and the kernel a second wake-up.
///
/// A loop leaves the thread when its client is closed (``CurlLoop/closeNow(_:)`` wakes the loop, whose next turn
/// reports it closed) or when the thread shuts down (which closes every loop left).
///
/// `@unchecked Sendable` is safe because the mutable state shared between threads lives behind the three `Lock`s
/// (the inbox, the joinable thread, the job queue) and two atomics (whether the thread runs, and its identity); the
/// loops the thread drives, and the buffers it lends them, are local to its body; the epoll set and eventfd are
/// immutable after `init` and closed in `deinit`, when no thread holds the object any more (the thread itself holds
/// it while it runs).
final class CurlThread: HTTPIOThreadCore, @unchecked Sendable {
    /// Messages for the thread, taken all at once on each turn.
    private struct Inbox {
        var attachments: [CurlLoop] = []
        var shutdownRequested = false
        /// Set by the thread when it took the shutdown request: no loop is taken any more.
        var closed = false
    }

    private let set = WakeableEpoll()
    private let inbox = Lock(Inbox())
    /// The thread, until ``shutdown()`` joins it.
    private let thread = Lock<BeaconThread.Joinable?>(nil)
    /// Whether the thread runs.
    private let running = Atomic<Bool>(false)

    /// Jobs of tasks that prefer this thread (see `CurlThread+TaskExecutor.swift`).
    let jobs = Lock(JobQueue())

    /// The thread's `pthread_self()`, set when ``run()`` starts (0 before).
    let loopThread = Atomic<UInt>(0)

    /// Whether the thread is one client's own: it takes one loop only, and waits on that loop's epoll set directly.
    private let dedicated: Bool

    /// Creates the epoll set and the eventfd and starts the thread.
    ///
    /// - Parameters:
    ///   - name: The thread's name: `beacon-http` for a client's own, `beacon-http-io` for an ``HTTPIOThread``'s.
    ///   - dedicated: Whether the thread is one client's own, which attaches its one loop and no other.
    init(name: String, dedicated: Bool) {
        self.dedicated = dedicated
        self.running.store(true, ordering: .relaxed)
        let thread = BeaconThread.start(name: name) { self.run() }
        self.thread.withLock { $0 = thread }
    }

    deinit {
        self.set.closeDescriptors()
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

    /// A loop the thread drives, and when it needs its next turn at the latest.
    private struct Driven {
        let loop: CurlLoop
        var deadline: MonotonicInstant
        /// Whether the thread waits on the loop's set itself (a dedicated thread's loop) rather than on its own set,
        /// which otherwise holds the loop's.
        let direct: Bool
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
        var descriptors = [Int32](repeating: 0, count: capacity)
        var events = [UInt32](repeating: 0, count: capacity)
        // The loops' own waits report into these, kept from turn to turn; so does the thread's, for a direct loop.
        var loopSockets = [Int32](repeating: 0, count: capacity)
        var loopEvents = [UInt32](repeating: 0, count: capacity)
        var ready = 0
        var jobs: [UnownedJob] = []
        while true {
            self.set.drain(ifIn: descriptors[0..<ready])
            let messages = self.inbox.withLock { inbox in
                let taken = inbox
                inbox.attachments = []
                if inbox.shutdownRequested {
                    inbox.closed = true
                }
                return taken
            }
            for loop in messages.attachments {
                precondition(!self.dedicated || loops.isEmpty, "a client's own I/O thread drives one loop")
                let direct = self.dedicated
                if direct {
                    _ = cbeacon_epoll_control(loop.set.epoll, EPOLL_CTL_ADD, self.set.wakeUp, EPOLLIN.rawValue)
                } else {
                    _ = cbeacon_epoll_control(self.set.epoll, EPOLL_CTL_ADD, loop.set.epoll, EPOLLIN.rawValue)
                }
                loops.append(Driven(loop: loop, deadline: .origin, direct: direct))
            }
            if messages.shutdownRequested {
                for driven in loops {
                    self.detach(driven)
                    driven.loop.closeNow(.ioThreadShutDown)
                }
                break
            }
            // What the wait reported for a direct loop: its sockets and its eventfd, without the thread's eventfd.
            var polled = 0
            for index in 0..<ready where descriptors[index] != self.set.wakeUp {
                if loops.first?.direct == true {
                    loopSockets[polled] = descriptors[index]
                    loopEvents[polled] = events[index]
                    polled += 1
                    loops[0].deadline = .origin
                } else if let readyLoop = loops.firstIndex(where: { $0.loop.set.epoll == descriptors[index] }) {
                    loops[readyLoop].deadline = .origin
                }
            }
            let now = MonotonicInstant.now
            var deadline = now.adding(milliseconds: 1000)
            var index = 0
            while index < loops.count {
                if !(now < loops[index].deadline) {
                    let turned = loops[index].loop.turn(
                        sockets: &loopSockets,
                        events: &loopEvents,
                        polled: loops[index].direct ? polled : nil
                    )
                    guard let next = turned else {
                        // Closed by its client: the loop leaves the thread.
                        self.detach(loops[index])
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
            let waitedSet = loops.first?.direct == true ? loops[0].loop.set.epoll : self.set.epoll
            let count = descriptors.withUnsafeMutableBufferPointer { descriptors in
                events.withUnsafeMutableBufferPointer { events in
                    cbeacon_epoll_wait(
                        waitedSet,
                        descriptors.baseAddress!,
                        events.baseAddress!,
                        Int32(capacity),
                        timeout
                    )
                }
            }
            ready = max(0, Int(count))  // -1 with EINTR: just turn again
        }
    }

    /// Takes a loop's set out of the thread's, or the thread's eventfd out of a direct loop's set.
    private func detach(_ driven: Driven) {
        if driven.direct {
            _ = cbeacon_epoll_control(driven.loop.set.epoll, EPOLL_CTL_DEL, self.set.wakeUp, 0)
        } else {
            _ = cbeacon_epoll_control(self.set.epoll, EPOLL_CTL_DEL, driven.loop.set.epoll, 0)
        }
    }
}
