// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconCurl
import Logging
import Synchronization

/// A client's transfers and the I/O thread that waits for them.
///
/// The loop has its own multi handle. Its I/O thread (a ``CurlThread``, the client's own or one several clients
/// share) waits for the loop's sockets in the thread's epoll set, where each is registered with the loop's number,
/// and calls ``turn(ready:)`` with the loop's ready sockets when the loop has something to do; each client keeps its
/// own configuration, connections and limits.
///
/// Every use of the multi handle happens inside the ``CurlEngine``'s `Lock`, on whichever thread holds it. A task
/// that submits a request takes that lock if it is free and lets libcurl send the request at once, on its own
/// thread, without blocking (libcurl is driven through `curl_multi_socket_action`, which never waits). If the lock
/// is busy, the task never waits for it: it leaves the request in the inbox and wakes the I/O thread. The waiting
/// itself is the I/O thread's: it sleeps in `epoll_wait` on the sockets libcurl registered (a socket registered by
/// another thread joins the wait in progress) and on its eventfd, wakes when an answer arrives, a timer is due or a
/// message is posted, and drives libcurl from there. A request sent by its task thus costs the I/O thread no
/// wake-up; the thread is woken only when its sleep must end earlier than it planned, for posted messages, or for
/// closing.
///
/// The loop's I/O thread is also the task executor of its client (`CurlThread+TaskExecutor.swift`).
///
/// `@unchecked Sendable` is safe because the mutable state lives behind the two `Lock`s (the engine, the inbox) and
/// two atomics (the running count, the turn request); the multi handle is used only inside the engine lock, and the
/// epoll set is `Sendable` itself (its descriptors immutable, and kept open for as long as the loop holds it).
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

    /// Set by ``wake()``: the loop needs a turn even if none of its sockets is ready.
    private let turnRequested = Atomic<Bool>(false)

    private let multi: UnsafeMutableRawPointer
    /// The I/O thread's epoll set, where the engine registers libcurl's sockets.
    private let set: WakeableEpoll
    /// The loop's number in ``set``, in the tag of each of its sockets.
    let number: UInt32
    private let engine: Lock<CurlEngine>
    private let inbox = Lock(Inbox())

    /// Creates the multi handle; the client then attaches the loop to its I/O thread.
    ///
    /// - Parameters:
    ///   - configuration: The client's configuration.
    ///   - logger: Where transfers are logged (debug level).
    ///   - set: The epoll set of the I/O thread the loop is for.
    init(configuration: HTTPClient.Configuration, logger: Logger, set: WakeableEpoll) {
        precondition(CurlGlobal.isInitialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed (out of memory)")
        }
        self.multi = multi
        self.set = set
        self.number = set.numberLoop()
        self.engine = Lock(
            CurlEngine(
                multi: multi,
                sockets: SocketRegistry(epoll: set.epoll, loop: self.number),
                configuration: configuration,
                logger: logger
            )
        )
    }

    deinit {
        // libcurl may still report sockets of cached connections as it closes them: the engine is alive until
        // this body returns.
        self.engine.withLock { $0.releaseIdleHandles() }
        curl_multi_cleanup(self.multi)
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

    /// Asks the I/O thread for a turn of this loop: ends its `epoll_wait` (now, or at once if it is not waiting).
    func wake() {
        self.turnRequested.store(true, ordering: .releasing)
        self.set.wake()
    }

    /// Whether ``wake()`` asked for a turn since the last call; called by the I/O thread after its wait.
    func takeTurnRequest() -> Bool {
        self.turnRequested.exchange(false, ordering: .acquiringAndReleasing)
    }

    // MARK: The I/O thread

    /// One turn, on the I/O thread, which found some of the loop's sockets ready, was asked for a turn, or reached
    /// the moment the loop planned: takes the inbox, hands the ready sockets to libcurl, drives it and plans the
    /// next turn.
    ///
    /// - Parameter ready: The loop's sockets that the thread's wait reported, with their event bits.
    /// - Returns: When the loop needs its next turn at the latest, or `nil` once it is closed: its sockets have then
    ///   left the thread's epoll set, and the thread lets go of the loop.
    func turn(ready: [ReadySocket]) -> MonotonicInstant? {
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
                engine.unregisterSockets()
                return nil  // closed by closeNow(_:)
            }
            for socket in ready {
                engine.socketReady(socket.socket, events: socket.events)
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

/// A socket that the I/O thread's wait reported ready, for the loop it belongs to.
struct ReadySocket {
    /// The socket.
    var socket: Int32
    /// epoll's event bits for it.
    var events: UInt32
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
