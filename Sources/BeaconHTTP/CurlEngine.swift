// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconCurl
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// The state of a client's transfers: the multi handle's transfers, those waiting for a connection slot, the
/// sockets libcurl waits on and its timer.
///
/// `@unchecked Sendable` is safe because ``CurlLoop`` keeps the engine in a `Lock` and reaches it only through
/// `withLock`, so every method runs with that lock held, on the I/O thread (the client's own or a shared one), on the thread of a
/// task that submits, cancels or resumes a transfer, or on the thread that closes the client; the engine never
/// escapes the lock (libcurl's callbacks, which find it through a context pointer, run inside those methods: socket,
/// timer, header and body callbacks all happen within `curl_multi_socket_action`, `curl_multi_add_handle`,
/// `curl_multi_remove_handle` and `curl_easy_pause`; the only other caller is `curl_multi_cleanup` in the loop's
/// `deinit`, when no other thread can reach the engine). No method blocks: libcurl is driven through
/// `curl_multi_socket_action`, which only does what the sockets allow without waiting (name resolution runs on
/// libcurl's own resolver threads, see ``CurlLoop/sendsFromCallers``).
final class CurlEngine: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    private let configuration: HTTPClient.Configuration
    private let logger: Logger

    /// Easy handles of finished requests, kept with the client's options for the next ones: creating a handle and
    /// its buffers costs a tenth of a request's work in libcurl.
    private var idleHandles: [UnsafeMutableRawPointer] = []

    /// The most handles kept in ``idleHandles``.
    private static let idleHandleLimit = 16

    /// The sockets registered with `epoll`: `true` while libcurl waits on them, `false` once it no longer does
    /// (a kept-alive connection between requests). Such a socket stays in the epoll set, so that the connection's
    /// next request changes its registration (one system call) instead of adding it again after removing it (two).
    private var watchedSockets: [Int32: Bool] = [:]

    /// When libcurl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, if it does.
    private(set) var timerDeadline: MonotonicInstant?

    /// Whether libcurl's timer is due now (its deadline is then a moment in the past).
    private var timerIsDue = false

    /// The earliest idle deadline of the streams started since the I/O thread last planned its sleep.
    private var newStreamDeadline: MonotonicInstant?

    /// Whether finished transfers are logged (at debug level), which needs their start time.
    private let logsTransfers: Bool

    /// Until when the I/O thread sleeps in `epoll_wait`; `nil` while it is awake, as it then computes its next
    /// wait before sleeping again. Another thread that needs the I/O thread earlier must wake it.
    var sleepDeadline: MonotonicInstant?

    /// Set by the I/O thread when it has failed everything: nothing is accepted any more.
    var isClosed = false

    /// Submissions taken from the inbox together with the close request, failed by ``abortAll()``.
    var pendingSubmissions: [(CurlTransfer, CurlTransfer.Completion)] = []

    /// The transfers whose easy handles are in the multi handle, by easy handle.
    private var running: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    /// The running streams that have an idle timeout, by easy handle.
    private var idleTimedStreams: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    /// The connection slots of each host key (``RequestTarget/hostKey``); an entry stays while the client talks to
    /// a handful of hosts, so a request hashes its host key once, at submission.
    private var hosts: [String: HostSlots] = [:]

    /// The most idle entries kept in ``hosts``.
    private static let idleHostLimit = 64

    /// Creates the engine and sets the multi handle's options, including the socket and timer callbacks that
    /// point at the engine (the loop keeps the engine alive for as long as the multi handle).
    ///
    /// - Parameters:
    ///   - multi: The multi handle, owned by the loop.
    ///   - epoll: The I/O thread's epoll instance, owned by the loop.
    ///   - configuration: The client's configuration.
    ///   - logger: Where transfers are logged.
    init(multi: UnsafeMutableRawPointer, epoll: Int32, configuration: HTTPClient.Configuration, logger: Logger) {
        self.multi = multi
        self.epoll = epoll
        self.configuration = configuration
        self.logger = logger
        self.logsTransfers = logger.logLevel <= .debug
        _ = cbeacon_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxIdleConnections))
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = cbeacon_curl_multi_set_socket_callback(
            multi,
            { _, socket, what, context, _ in
                Unmanaged<CurlEngine>.fromOpaque(context!).takeUnretainedValue().watch(socket, what)
                return 0
            },
            context
        )
        _ = cbeacon_curl_multi_set_timer_callback(
            multi,
            { _, milliseconds, context in
                Unmanaged<CurlEngine>.fromOpaque(context!).takeUnretainedValue().setTimer(milliseconds)
                return 0
            },
            context
        )
    }

    /// The number of transfers in the multi handle.
    var runningCount: Int { self.running.count }

    private var limitPerHost: Int { max(1, self.configuration.maxConnectionsPerHost) }

    // MARK: Messages

    /// Takes a new transfer: starts it, queues it behind the per-host limit, or fails it if already cancelled.
    ///
    /// - Parameters:
    ///   - transfer: The transfer.
    ///   - completion: Whom to tell about its outcome.
    func submit(_ transfer: CurlTransfer, _ completion: CurlTransfer.Completion) {
        transfer.completion = completion
        if self.logsTransfers {
            transfer.startedAt = .now
        }
        if transfer.cancelRequested.load(ordering: .sequentiallyConsistent) {
            self.complete(transfer, with: CancellationError())
        } else if transfer.stream != nil {
            self.start(transfer)
        } else {
            let slots = self.slots(for: transfer.target.hostKey)
            transfer.hostSlots = slots
            if slots.active < self.limitPerHost {
                slots.active += 1
                transfer.holdsHostSlot = true
                self.start(transfer)
            } else {
                transfer.phase = .queued
                slots.queue.append(transfer)
            }
        }
    }

    /// The slots of a host key, created on first use.
    private func slots(for hostKey: String) -> HostSlots {
        if let slots = self.hosts[hostKey] { return slots }
        if self.hosts.count >= Self.idleHostLimit {
            self.hosts = self.hosts.filter { !$0.value.isIdle }
        }
        let slots = HostSlots()
        self.hosts[hostKey] = slots
        return slots
    }

    /// Cleans up the kept easy handles; called before the multi handle is cleaned up.
    func releaseIdleHandles() {
        for easy in self.idleHandles {
            curl_easy_cleanup(easy)
        }
        self.idleHandles = []
    }

    /// The earliest moment something must happen without socket activity that the I/O thread's current sleep
    /// may not cover: libcurl's timer, or the idle deadline of a stream started since the thread planned that
    /// sleep. Other streams need no look: activity only moves their deadlines later, so this costs the same with
    /// 50 open watches as with none.
    func nextDeadline() -> MonotonicInstant? {
        guard let newStream = self.newStreamDeadline else { return self.timerDeadline }
        return min(self.timerDeadline ?? newStream, newStream)
    }

    /// Called by the I/O thread when it plans its sleep, having looked at every stream's idle deadline.
    func forgetNewStreamDeadline() {
        self.newStreamDeadline = nil
    }

    /// Aborts a transfer on the caller's request; it completes with `CancellationError`.
    ///
    /// - Parameter transfer: The transfer; ignored when it finished already or has not been submitted yet (its
    ///   `cancelRequested` flag then stops it at submission).
    func cancel(_ transfer: CurlTransfer) {
        switch transfer.phase {
        case .new, .done:
            return
        case .queued:
            transfer.hostSlots?.queue.removeAll { $0 === transfer }
            self.complete(transfer, with: CancellationError())
        case .running:
            self.complete(transfer, with: CancellationError())
        }
    }

    /// Resumes a stream paused by its write callback, now that its consumer made room.
    ///
    /// - Parameter transfer: The transfer.
    func resume(_ transfer: CurlTransfer) {
        guard transfer.phase == .running, let easy = transfer.easy else { return }
        transfer.lastActivity = .now
        let code = cbeacon_curl_easy_unpause(easy)
        if code != CURLE_OK {
            self.complete(
                transfer,
                with: HTTPError(curlCode: code, target: transfer.target.redacted, detail: transfer.errorDetail)
            )
        }
    }

    /// Fails every transfer with ``HTTPError/Code/closed``: running, queued, and pending submissions.
    ///
    /// - Parameter reason: Why: the client was closed, or its shared I/O thread shut down.
    func abortAll(_ reason: CloseReason) {
        let submissions = self.pendingSubmissions
        self.pendingSubmissions = []
        for (transfer, completion) in submissions {
            transfer.completion = completion
            self.complete(transfer, with: reason.error(target: transfer.target.redacted))
        }
        let queued = self.hosts.values.flatMap { slots in
            defer { slots.queue = [] }
            return slots.queue
        }
        for transfer in queued {
            self.complete(transfer, with: reason.error(target: transfer.target.redacted))
        }
        for transfer in Array(self.running.values) {
            self.complete(transfer, with: reason.error(target: transfer.target.redacted))
        }
    }

    // MARK: Driving libcurl

    /// Runs libcurl's timer while it is due, then completes the finished transfers. Called after every change.
    func drive() {
        // Asked, not taken from the timer callback alone: libcurl reports only changes of its earliest expiry, and
        // `curl_easy_pause` can schedule a run behind an expiry it already reported.
        self.refreshTimer()
        var rounds = 0
        // libcurl asks for an immediate call after adding a handle; a few rounds cover chains of those, and a
        // timer still due afterwards is the I/O thread's (its wait ends at once).
        while rounds < 8, self.timerIsDue {
            rounds += 1
            var running: Int32 = 0
            _ = curl_multi_socket_action(self.multi, CURL_SOCKET_BAD, 0, &running)
            self.refreshTimer()
        }
        self.completeFinished()
    }

    /// Reads libcurl's next timeout from the source. The timer callback only reports changes of the earliest
    /// expiry, so the deadline is asked for rather than assumed: a run that libcurl scheduled without moving the
    /// expiry it last reported would otherwise be missed, and the transfers waiting for it would stall.
    private func refreshTimer() {
        var milliseconds = -1
        guard curl_multi_timeout(self.multi, &milliseconds) == CURLM_OK else { return }
        self.setTimer(milliseconds)
    }

    /// Records libcurl's timeout: none (negative), due now (0, without reading the clock), or in that many ms.
    private func setTimer(_ milliseconds: Int) {
        self.timerIsDue = milliseconds == 0
        switch milliseconds {
        case ..<0: self.timerDeadline = nil
        case 0: self.timerDeadline = MonotonicInstant.origin
        default: self.timerDeadline = MonotonicInstant.now.adding(milliseconds: milliseconds)
        }
    }

    /// Tells libcurl that a socket is ready, then drives it.
    ///
    /// - Parameters:
    ///   - socket: The socket epoll reported.
    ///   - events: epoll's event bits for it.
    func socketReady(_ socket: Int32, events: UInt32) {
        if self.watchedSockets[socket] == false {
            // Set aside: an idle kept-alive connection that the server closed, or that sent something unasked.
            // libcurl finds out when it next tries to reuse the connection; the socket leaves the epoll set now.
            self.watchedSockets[socket] = nil
            _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_DEL, socket, 0)
            return
        }
        var mask: Int32 = 0
        if events & EPOLLIN.rawValue != 0 { mask |= CURL_CSELECT_IN }
        if events & EPOLLOUT.rawValue != 0 { mask |= CURL_CSELECT_OUT }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { mask |= CURL_CSELECT_ERR }
        var running: Int32 = 0
        _ = curl_multi_socket_action(self.multi, socket, mask, &running)
        self.drive()
    }

    /// Takes the transfers that libcurl finished and completes them.
    private func completeFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &remaining) {
            // Copy what is needed: the message does not survive curl_multi_remove_handle.
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            guard let transfer = self.running[easy] else { continue }
            if result == CURLE_OK {
                self.succeed(transfer)
            } else {
                let error = HTTPError(curlCode: result, target: transfer.target.redacted, detail: transfer.errorDetail)
                self.complete(transfer, with: error)
            }
        }
    }

    /// The socket callback: registers, changes or sets aside a socket in the epoll set. A socket registered here
    /// joins an `epoll_wait` already in progress on the I/O thread.
    ///
    /// A socket that libcurl stops waiting on stays registered, set aside (see ``watchedSockets``): an event on it
    /// then removes it (``socketReady(_:events:)``), and a socket that libcurl closed has left the set by itself.
    ///
    /// - Parameters:
    ///   - socket: The socket.
    ///   - what: `CURL_POLL_IN`, `CURL_POLL_OUT`, `CURL_POLL_INOUT` or `CURL_POLL_REMOVE`.
    private func watch(_ socket: Int32, _ what: Int32) {
        if what == CURL_POLL_REMOVE {
            if self.watchedSockets[socket] != nil {
                self.watchedSockets[socket] = false
            }
            return
        }
        var events: UInt32 = 0
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { events |= EPOLLIN.rawValue }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { events |= EPOLLOUT.rawValue }
        // A socket closed behind our back (set aside, then closed by libcurl) has left the epoll set by itself, and
        // its number may come back: fall back from one operation to the other when the set disagrees with what we
        // remember.
        if self.watchedSockets.updateValue(true, forKey: socket) == nil {
            if cbeacon_epoll_control(self.epoll, EPOLL_CTL_ADD, socket, events) != 0, errno == EEXIST {
                _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_MOD, socket, events)
            }
        } else if cbeacon_epoll_control(self.epoll, EPOLL_CTL_MOD, socket, events) != 0, errno == ENOENT {
            _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_ADD, socket, events)
        }
    }

    /// Fails the streams silent for longer than their idle timeout. A stream whose consumer has bytes left to
    /// read (or that is paused for it) waits for its consumer, not for the server, so it is not idle.
    ///
    /// - Returns: How long until the next stream could reach its idle timeout, or `nil` when no stream has one.
    func expireIdleStreams() -> Duration? {
        guard !self.idleTimedStreams.isEmpty else { return nil }
        let now = MonotonicInstant.now
        var next: Duration?
        for transfer in Array(self.idleTimedStreams.values) {
            guard let idleTimeout = transfer.idleTimeout else { continue }
            let remaining = transfer.lastActivity + idleTimeout - now
            if remaining <= .zero, transfer.stream?.hasUnreadBytes == true {
                // Waiting for the consumer: restart the clock.
                transfer.lastActivity = now
                next = min(next ?? idleTimeout, idleTimeout)
            } else if remaining <= .zero {
                let error = HTTPError(
                    .timedOut,
                    "nothing received for \(idleTimeout) (the stream's idle timeout)",
                    target: transfer.target.redacted
                )
                self.complete(transfer, with: error)
            } else {
                next = min(next ?? remaining, remaining)
            }
        }
        return next
    }

    // MARK: Transfers

    /// Creates the easy handle and adds it to the multi handle; fails the transfer when either fails.
    private func start(_ transfer: CurlTransfer) {
        do throws(HTTPError) {
            try transfer.makeEasyHandle(configuration: self.configuration, recycled: self.idleHandles.popLast())
        } catch {
            self.complete(transfer, with: error)
            return
        }
        let easy = transfer.easy!
        let code = curl_multi_add_handle(self.multi, easy)
        guard code == CURLM_OK else {
            let error = HTTPError(
                .other,
                String(cString: curl_multi_strerror(code)),
                target: transfer.target.redacted
            )
            self.complete(transfer, with: error)
            return
        }
        transfer.phase = .running
        self.running[easy] = transfer
        if transfer.idleTimeout != nil {
            self.idleTimedStreams[easy] = transfer
            if let idleTimeout = transfer.idleTimeout {
                let deadline = transfer.lastActivity + idleTimeout
                self.newStreamDeadline = min(self.newStreamDeadline ?? deadline, deadline)
            }
        }
    }

    /// Completes a transfer that libcurl finished without error.
    private func succeed(_ transfer: CurlTransfer) {
        var reused = false
        var localPort = 0
        if let easy = transfer.easy {
            var connects = 0
            _ = cbeacon_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
            reused = connects == 0
            _ = cbeacon_curl_easy_getinfo_long(easy, CURLINFO_LOCAL_PORT, &localPort)
            if transfer.status == 0 {
                _ = cbeacon_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &transfer.status)
            }
        }
        let completion = transfer.completion
        switch completion {
        case .response(let continuation):
            let response = HTTPResponse(
                status: transfer.status,
                headerBlock: transfer.headers,
                body: transfer.body,
                reusedConnection: reused,
                localPort: localPort
            )
            transfer.body = []
            // The caller first, the clean-up after: releasing the easy handle is not the caller's wait.
            transfer.completion = nil
            continuation.resume(returning: response)
            self.finish(transfer, error: nil)
        case .head(let continuation):
            self.finish(transfer, error: nil)
            // The head never ended with a blank line (unusual): deliver what there is, then the end.
            continuation.resume(returning: transfer.head)
            transfer.stream?.finish(nil)
        case nil:
            self.finish(transfer, error: nil)
            transfer.stream?.finish(nil)
        }
    }

    /// Completes a transfer with an error.
    private func complete(_ transfer: CurlTransfer, with error: any Error) {
        let completion = transfer.completion
        self.finish(transfer, error: error)
        switch completion {
        case .response(let continuation):
            continuation.resume(throwing: error)
        case .head(let continuation):
            continuation.resume(throwing: error)
            transfer.stream?.finish(error)
        case nil:
            transfer.stream?.finish(error)
        }
    }

    /// Releases the transfer's handle, frees its per-host slot for the next queued transfer, and logs it.
    private func finish(_ transfer: CurlTransfer, error: (any Error)?) {
        if let easy = transfer.easy {
            self.running[easy] = nil
            self.idleTimedStreams[easy] = nil
        }
        // Only a buffered request that ended well leaves its handle in a state worth reusing.
        let keep = error == nil && transfer.stream == nil && self.idleHandles.count < Self.idleHandleLimit
        if let easy = transfer.releaseHandle(multi: self.multi, keepingHandle: keep) {
            self.idleHandles.append(easy)
        }
        transfer.phase = .done
        transfer.completion = nil
        self.log(transfer, error: error)

        if transfer.holdsHostSlot, let slots = transfer.hostSlots {
            transfer.holdsHostSlot = false
            if slots.queue.isEmpty {
                slots.active -= 1
            } else {
                // The slot passes to the next request in line.
                let next = slots.queue.removeFirst()
                next.holdsHostSlot = true
                self.start(next)
            }
        }
    }

    /// One debug line per transfer: method, redacted URL, status or error, duration. Never headers or body.
    private func log(_ transfer: CurlTransfer, error: (any Error)?) {
        guard self.logsTransfers else { return }
        let milliseconds = (MonotonicInstant.now - transfer.startedAt).wholeMilliseconds
        var metadata: Logger.Metadata = [
            LogKey.method: "\(transfer.request.method)",
            LogKey.url: "\(transfer.target.redacted)",
            LogKey.durationMilliseconds: "\(milliseconds)",
            LogKey.stream: "\(transfer.stream != nil)",
        ]
        if transfer.status != 0 {
            metadata[LogKey.status] = "\(transfer.status)"
        }
        if let error {
            metadata[LogKey.error] = "\(error)"
        }
        self.logger.debug("HTTP transfer finished", metadata: metadata)
    }
}

/// Metadata keys of the client's log lines.
enum LogKey {
    static let method = "http.request.method"
    static let url = "url.full"
    static let status = "http.response.status_code"
    static let durationMilliseconds = "http.duration_ms"
    static let stream = "http.stream"
    static let error = "error"
}

/// One host key's connection slots: how many buffered transfers hold one, and who waits for one. Only with the
/// engine lock held.
final class HostSlots {
    /// Buffered transfers holding a slot (streams are not counted).
    var active = 0
    /// Buffered transfers waiting for a slot, in order of submission.
    var queue: [CurlTransfer] = []

    /// Whether no transfer holds or waits for a slot.
    var isIdle: Bool { self.active == 0 && self.queue.isEmpty }
}
