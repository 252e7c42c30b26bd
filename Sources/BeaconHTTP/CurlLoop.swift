// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconCurl
import Logging
import Synchronization

/// A client's transfers and the I/O thread that waits for them.
///
/// The loop has its own multi handle, epoll set and wake-up eventfd. Its I/O thread (a ``CurlThread``, the
/// client's own or one several clients share) holds the loop's epoll set in its own and calls ``turn()`` when the
/// loop has something to do; each client keeps its own configuration, connections and limits.
///
/// Every use of the multi handle happens inside the ``CurlEngine``'s `Lock`, on whichever thread holds it. A task
/// that submits a request takes that lock if it is free and lets libcurl send the request at once, on its own
/// thread, without blocking (libcurl is driven through `curl_multi_socket_action`, which never waits). If the lock
/// is busy, the task never waits for it: it leaves the request in the inbox and wakes the I/O thread. The waiting
/// itself is the I/O thread's: it sleeps in `epoll_wait` on the sockets libcurl registered (a socket registered by
/// another thread joins the wait in progress) and on an eventfd, wakes when an answer arrives, a timer is due or a
/// message is posted, and drives libcurl from there. A request sent by its task thus costs the I/O thread no
/// wake-up; the thread is woken only when its sleep must end earlier than it planned, for posted messages, or for
/// closing.
///
/// The loop's I/O thread is also the task executor of its client (`CurlThread+TaskExecutor.swift`).
///
/// `@unchecked Sendable` is safe because the mutable state lives behind the two `Lock`s (the engine, the inbox) and
/// an atomic (the running count); the multi handle is used only inside the engine lock, and the epoll set and
/// eventfd are immutable after `init` and closed in `deinit`, when no thread holds the loop any more (writing to the
/// eventfd, the only use outside a lock, then cannot happen).
final class CurlLoop: @unchecked Sendable {
    /// Messages that tasks leave for the I/O thread when the engine is busy, taken all at once on each turn.
    struct Inbox {
        var submissions: [(CurlTransfer, CurlTransfer.Completion)] = []
        var cancellations: [CurlTransfer] = []
        var resumptions: [CurlTransfer] = []
        /// Set when the loop is closed: nothing is accepted any more.
        var closed = false
        /// Why the loop closed (or is asked to): what the transfers it fails are told.
        var closeReason = CloseReason.clientClosed

        /// Whether there is nothing for the I/O thread: a message added now needs a wake-up, while one added to a
        /// non-empty inbox rides on the wake-up that its predecessor sent.
        var isEmpty: Bool {
            submissions.isEmpty && cancellations.isEmpty && resumptions.isEmpty
        }
    }

    /// Whether tasks may hand requests to libcurl themselves. True when libcurl resolves names on its own threads
    /// (`CURL_VERSION_ASYNCHDNS`, as in Debian's and most builds); otherwise resolving could block the calling
    /// thread, so every submission goes through the I/O thread instead.
    static let sendsFromCallers: Bool = {
        let features = cbeacon_curl_version_info().pointee.features
        return features & CURL_VERSION_ASYNCHDNS != 0
    }()

    /// The number of transfers in the multi handle, published after each change.
    let runningCount = Atomic<Int>(0)

    private let multi: UnsafeMutableRawPointer
    /// The loop's epoll set (libcurl's sockets) and its wake-up eventfd; its I/O thread waits for it in its own set.
    let set: WakeableEpoll
    private let engine: Lock<CurlEngine>
    private let inbox = Lock(Inbox())

    /// Creates the multi handle, the epoll instance and the wake-up eventfd; the client then attaches the loop to its
    /// I/O thread.
    ///
    /// - Parameters:
    ///   - configuration: The client's configuration.
    ///   - logger: Where transfers are logged (debug level).
    init(configuration: HTTPClient.Configuration, logger: Logger) {
        precondition(CurlGlobal.isInitialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed (out of memory)")
        }
        self.multi = multi
        self.set = WakeableEpoll()
        self.engine = Lock(
            CurlEngine(multi: multi, epoll: self.set.epoll, configuration: configuration, logger: logger)
        )
    }

    deinit {
        // libcurl may still report sockets of cached connections as it closes them: the engine is alive until
        // this body returns.
        self.engine.withLock { $0.releaseIdleHandles() }
        curl_multi_cleanup(self.multi)
        self.set.closeDescriptors()
    }

    // MARK: Any thread

    /// Starts a transfer: sends it from the calling thread when the engine is free (see ``sendsFromCallers``),
    /// otherwise through the I/O thread; fails it at once with ``HTTPError/Code/closed`` when the client is
    /// closed.
    ///
    /// - Parameters:
    ///   - transfer: A new transfer.
    ///   - completion: Whom to tell about its outcome.
    func submit(_ transfer: CurlTransfer, _ completion: CurlTransfer.Completion) {
        if Self.sendsFromCallers {
            let handled = self.withEngineIfAvailable { engine -> Bool in
                guard !engine.isClosed else { return false }
                engine.submit(transfer, completion)
                engine.drive()
                return true
            }
            if handled == true { return }
        }
        let accepted = self.post { inbox in
            inbox.submissions.append((transfer, completion))
        }
        if !accepted {
            let reason = self.inbox.withLock { $0.closeReason }
            let error = reason.error(target: transfer.target.redacted)
            switch completion {
            case .response(let continuation): continuation.resume(throwing: error)
            case .head(let continuation): continuation.resume(throwing: error)
            }
        }
    }

    /// Aborts a transfer on the caller's request; it completes with `CancellationError`. Harmless when the
    /// transfer already finished; effective even when it has not been submitted yet.
    ///
    /// - Parameter transfer: The transfer to abort.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        self.onEngine {
            $0.cancel(transfer)
        } otherwise: {
            $0.cancellations.append(transfer)
        }
    }

    /// Resumes a stream that its write callback paused, now that its consumer made room.
    ///
    /// - Parameter transfer: The paused transfer.
    func resume(_ transfer: CurlTransfer) {
        self.onEngine {
            $0.resume(transfer)
        } otherwise: {
            $0.resumptions.append(transfer)
        }
    }

    /// Fails every transfer with ``HTTPError/Code/closed`` now, on the calling thread, and refuses later ones; then
    /// wakes the loop so that a shared thread lets go of it. For a loop on a shared thread (its client's
    /// `close()`, or the shared thread's shutdown), and for a loop that a shut-down shared thread never took.
    /// Doing nothing when the loop is already closed.
    ///
    /// It waits for the engine lock, which a thread holds only for a turn's work (never while waiting), so it does
    /// not block for long; it must not be called with the engine lock held.
    ///
    /// - Parameter reason: What the failed transfers are told.
    func closeNow(_ reason: CloseReason) {
        let messages = self.inbox.withLock { inbox -> Inbox? in
            guard !inbox.closed else { return nil }
            let taken = inbox
            inbox = Inbox()
            inbox.closed = true
            inbox.closeReason = reason
            return taken
        }
        guard let messages else { return }
        self.engine.withLock { engine in
            engine.pendingSubmissions += messages.submissions
            engine.abortAll(reason)
            engine.isClosed = true
            self.runningCount.store(0, ordering: .relaxed)
        }
        self.wake()
    }

    /// Does `action` on the engine and drives libcurl when the engine is free, or else leaves `message` for the
    /// I/O thread; does nothing once the loop is closed.
    private func onEngine(_ action: (CurlEngine) -> Void, otherwise message: (inout Inbox) -> Void) {
        let handled: Void? = self.withEngineIfAvailable { engine in
            guard !engine.isClosed else { return }
            action(engine)
            engine.drive()
        }
        if handled == nil {
            self.post(message)
        }
    }

    /// Runs `body` on the engine if no other thread holds it (a task never waits for the I/O thread's turn), then
    /// wakes the I/O thread if its sleep must now end earlier than it planned.
    ///
    /// - Returns: What `body` returned, or `nil` when the engine was busy and `body` did not run.
    private func withEngineIfAvailable<Result>(_ body: (CurlEngine) -> Result) -> Result? {
        let outcome = self.engine.withLockIfAvailable { engine -> (Result, Bool) in
            let result = body(engine)
            self.runningCount.store(engine.runningCount, ordering: .relaxed)
            guard let sleepDeadline = engine.sleepDeadline, let next = engine.nextDeadline(), next < sleepDeadline
            else {
                return (result, false)
            }
            engine.sleepDeadline = nil  // one wake-up is enough: the thread plans again when it wakes
            return (result, true)
        }
        guard let (result, wake) = outcome else { return nil }
        if wake {
            self.wake()
        }
        return result
    }

    /// Leaves a message for the I/O thread and wakes it if the inbox was empty.
    ///
    /// - Returns: `false` when the loop is closed and the message was dropped.
    @discardableResult
    private func post(_ message: (inout Inbox) -> Void) -> Bool {
        let outcome = self.inbox.withLock { inbox -> (accepted: Bool, wake: Bool) in
            guard !inbox.closed else { return (false, false) }
            let wasEmpty = inbox.isEmpty
            message(&inbox)
            return (true, wasEmpty)
        }
        if outcome.wake {
            self.wake()
        }
        return outcome.accepted
    }

    /// Ends the I/O thread's `epoll_wait` (now, or at once if it is not waiting).
    func wake() {
        self.set.wake()
    }

    // MARK: The I/O thread

    /// One turn, on the I/O thread, which found the loop's epoll set readable or the moment it planned passed: takes
    /// the ready sockets (reported by the thread's own wait, or else taken without waiting) and the inbox, hands the
    /// sockets to libcurl, drives it and plans the next turn.
    ///
    /// - Parameters:
    ///   - sockets: Room for the descriptors the wait reports, kept by the thread from turn to turn.
    ///   - events: Room for their event bits, as long as `sockets`.
    ///   - polled: How many descriptors of the loop's set the thread's wait already put in `sockets` and `events`
    ///     (the thread waits on this set itself), or `nil` for the loop to ask its set.
    /// - Returns: When the loop needs its next turn at the latest, or `nil` once it is closed (the thread then lets
    ///   go of it).
    func turn(sockets: inout [Int32], events: inout [UInt32], polled: Int? = nil) -> MonotonicInstant? {
        let count =
            polled.map(Int32.init)
            ?? sockets.withUnsafeMutableBufferPointer { sockets in
                events.withUnsafeMutableBufferPointer { events in
                    let capacity = Int32(min(sockets.count, events.count))
                    return cbeacon_epoll_wait(self.set.epoll, sockets.baseAddress!, events.baseAddress!, capacity, 0)
                }
            }
        let ready = max(0, Int(count))
        self.set.drain(ifIn: sockets[0..<ready])
        let messages = self.inbox.withLock { inbox in
            let taken = inbox
            inbox.submissions = []
            inbox.cancellations = []
            inbox.resumptions = []
            return taken
        }
        return self.engine.withLock { engine -> MonotonicInstant? in
            engine.sleepDeadline = nil
            if engine.isClosed {
                return nil  // closed by closeNow(_:)
            }
            for index in 0..<ready where sockets[index] != self.set.wakeUp {
                engine.socketReady(sockets[index], events: events[index])
            }
            self.deliver(messages, to: engine)
            engine.drive()
            let now = MonotonicInstant.now
            let idleLimit = engine.expireIdleStreams()
            engine.forgetNewStreamDeadline()
            var deadline = now.adding(milliseconds: 1000)
            if let timer = engine.timerDeadline { deadline = min(deadline, timer) }
            if let idleLimit { deadline = min(deadline, now + idleLimit) }
            engine.sleepDeadline = deadline
            self.runningCount.store(engine.runningCount, ordering: .relaxed)
            return deadline
        }
    }

    /// Hands the inbox's messages to the engine, in the order they can have been posted in: a transfer is
    /// submitted before it can be cancelled or resumed.
    private func deliver(_ messages: Inbox, to engine: CurlEngine) {
        for (transfer, completion) in messages.submissions {
            engine.submit(transfer, completion)
        }
        for transfer in messages.cancellations {
            engine.cancel(transfer)
        }
        for transfer in messages.resumptions {
            engine.resume(transfer)
        }
    }
}

/// Why a loop closed: what its failed transfers are told.
enum CloseReason: Sendable {
    /// The client was closed (or released).
    case clientClosed
    /// The shared I/O thread the client uses was shut down.
    case ioThreadShutDown

    /// The error of a transfer that the loop fails or refuses for this reason.
    ///
    /// - Parameter target: The transfer's redacted URL.
    /// - Returns: An error with code ``HTTPError/Code/closed``.
    func error(target: String) -> HTTPError {
        switch self {
        case .clientClosed: HTTPError.closed(target: target)
        case .ioThreadShutDown: HTTPError.ioThreadShutDown(target: target)
        }
    }
}

/// libcurl's process-wide initialization, done once before the first multi handle.
enum CurlGlobal {
    /// Whether `curl_global_init` succeeded; evaluated once, thread-safely, on first use.
    static let isInitialized: Bool = cbeacon_curl_global_init_default() == CURLE_OK
}
