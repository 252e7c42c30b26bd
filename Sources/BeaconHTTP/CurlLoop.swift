// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl
import Logging
import Synchronization

/// The thread-safe side of an ``HTTPClient``'s I/O thread: the inbox other threads post to, and the wake-up.
///
/// `@unchecked Sendable` is safe because the only mutable state, the inbox, sits in a `Mutex`, and the multi
/// handle is used from other threads only through `curl_multi_wakeup`, which libcurl documents as callable from
/// any thread. That call is made with the inbox locked and only while `closed` is false; the I/O thread sets
/// `closed` under the same lock before it calls `curl_multi_cleanup`, so a wake-up never reaches a freed handle.
/// Everything else about the multi handle happens in ``run()``, on the I/O thread.
final class CurlLoop: @unchecked Sendable {
    /// Messages for the I/O thread, taken all at once on each turn of its loop.
    struct Inbox {
        var submissions: [(CurlTransfer, CurlTransfer.Completion)] = []
        var cancellations: [CurlTransfer] = []
        var resumptions: [CurlTransfer] = []
        var shutdownRequested = false
        /// Set by the I/O thread when it has taken the shutdown request: nothing is accepted any more.
        var closed = false
    }

    private let inbox = Mutex(Inbox())

    /// The number of transfers in the multi handle, published by the I/O thread after each turn of its loop.
    let runningCount = Atomic<Int>(0)
    private let multi: UnsafeMutableRawPointer
    private let configuration: HTTPClientConfiguration
    private let logger: Logger

    /// Creates the multi handle. The I/O thread is started by the caller, which then calls ``run()`` on it.
    ///
    /// - Parameters:
    ///   - configuration: The client's configuration.
    ///   - logger: Where transfers are logged (debug level).
    init(configuration: HTTPClientConfiguration, logger: Logger) {
        precondition(CurlGlobal.isInitialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed (out of memory)")
        }
        self.multi = multi
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Any thread

    /// Hands a transfer to the I/O thread.
    ///
    /// - Parameters:
    ///   - transfer: A new transfer.
    ///   - completion: Whom to tell about its outcome; resumed with ``HTTPError/Code/shutdown`` right away when the
    ///     client is shut down.
    func submit(_ transfer: CurlTransfer, _ completion: CurlTransfer.Completion) {
        let accepted = self.inbox.withLock { inbox in
            guard !inbox.closed, !inbox.shutdownRequested else { return false }
            inbox.submissions.append((transfer, completion))
            curl_multi_wakeup(self.multi)
            return true
        }
        if !accepted {
            let error = HTTPError.shutdown(url: transfer.target.redacted)
            switch completion {
            case .response(let continuation): continuation.resume(throwing: error)
            case .head(let continuation): continuation.resume(throwing: error)
            }
        }
    }

    /// Asks the I/O thread to abort a transfer, which then completes with `CancellationError`. Harmless when the
    /// transfer already finished; effective even when it has not reached the I/O thread yet.
    ///
    /// - Parameter transfer: The transfer to abort.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        self.inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.cancellations.append(transfer)
            curl_multi_wakeup(self.multi)
        }
    }

    /// Asks the I/O thread to resume a stream that its write callback paused.
    ///
    /// - Parameter transfer: The paused transfer.
    func resume(_ transfer: CurlTransfer) {
        self.inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.resumptions.append(transfer)
            curl_multi_wakeup(self.multi)
        }
    }

    /// Asks the I/O thread to fail every transfer with ``HTTPError/Code/shutdown`` and to exit.
    func requestShutdown() {
        self.inbox.withLock { inbox in
            guard !inbox.closed, !inbox.shutdownRequested else { return }
            inbox.shutdownRequested = true
            curl_multi_wakeup(self.multi)
        }
    }

    // MARK: The I/O thread

    /// The I/O thread's body: turns the loop until shutdown, then frees the multi handle.
    func run() {
        let engine = CurlEngine(multi: self.multi, configuration: self.configuration, logger: self.logger)
        while true {
            let inbox = self.inbox.withLock { inbox in
                let taken = inbox
                inbox.submissions = []
                inbox.cancellations = []
                inbox.resumptions = []
                if inbox.shutdownRequested {
                    inbox.closed = true
                }
                return taken
            }
            if inbox.shutdownRequested {
                engine.abortAll(adding: inbox.submissions)
                break
            }
            for (transfer, completion) in inbox.submissions {
                engine.submit(transfer, completion)
            }
            for transfer in inbox.cancellations {
                engine.cancel(transfer)
            }
            for transfer in inbox.resumptions {
                engine.resume(transfer)
            }
            engine.perform()
            let nextIdleDeadline = engine.expireIdleStreams()
            self.runningCount.store(engine.runningCount, ordering: .relaxed)
            engine.poll(limit: nextIdleDeadline)
        }
        self.runningCount.store(0, ordering: .relaxed)
        curl_multi_cleanup(self.multi)
    }
}

/// libcurl's process-wide initialization, done once before the first multi handle.
enum CurlGlobal {
    /// Whether `curl_global_init` succeeded; evaluated once, thread-safely, on first use.
    static let isInitialized: Bool = cbeacon_curl_global_init_default() == CURLE_OK
}
