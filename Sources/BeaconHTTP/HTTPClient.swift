// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
package import Logging
import Synchronization

/// An HTTP/1.1 client over libcurl's multi interface, bridged to async/await.
///
/// A client's transfers are waited for by one I/O thread (not a task) that waits for every transfer's sockets with
/// `epoll`: by default a thread of its own that the client starts in `init` and stops in ``close()``, or the thread
/// of the ``HTTPIOThread`` given in ``Configuration/ioThread``, which several clients share. Both are the same kind
/// of thread (`CurlThread`); a client's own simply has one client. A task sends its request
/// itself when it can (libcurl's socket interface never waits) and is resumed from the I/O thread when the response
/// arrives, so no call ever blocks the cooperative thread pool, however many requests and streams are open.
/// Connections are kept alive and reused between requests to the same host.
///
/// Call ``close()`` when done; `deinit` does it too, as a safety net.
package final class HTTPClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: HTTPClient.Configuration

    private let loop: CurlLoop

    /// Parsed request URLs, by URL: a client sends most requests to a few URLs, and looking one up costs less than
    /// splitting it again.
    private let targets = Lock<[String: RequestTarget]>([:])

    /// The most URLs kept in ``targets``; past that the cache starts over.
    private static let targetCacheLimit = 256

    /// The I/O thread the client's loop is on: its own, or the shared thread of ``Configuration/ioThread``; `nil`
    /// when that thread was shut down before the client was made.
    private let thread: CurlThread?

    /// Creates a client and starts its own I/O thread, or hands its transfers to the shared thread of
    /// ``Configuration/ioThread``.
    ///
    /// With a shared thread that is shut down, the client is created closed: its requests fail with
    /// ``HTTPError/Code/closed``.
    ///
    /// - Parameters:
    ///   - configuration: Timeouts, TLS, connection limits, and the shared I/O thread if any.
    ///   - logger: Where the client logs, at debug level only: one line per finished transfer with its method, URL
    ///     (without user information or query), status or error, and duration. Never headers or bodies.
    package init(configuration: HTTPClient.Configuration = .init(), logger: Logger) {
        self.configuration = configuration
        // The loop does not keep the shared thread's object: only the application and the clients do, so that
        // releasing them all stops the thread (the thread keeps the loops it drives).
        var loopConfiguration = configuration
        loopConfiguration.ioThread = nil
        let loop = CurlLoop(configuration: loopConfiguration, logger: logger)
        self.loop = loop
        let thread =
            if let ioThread = configuration.ioThread {
                ioThread.core { CurlThread(name: "beacon-http-io", dedicated: false) }
            } else {
                CurlThread(name: "beacon-http", dedicated: true)
            }
        if let thread, thread.attach(loop) {
            self.thread = thread
        } else {
            // No thread will ever run the loop: its transfers fail at once.
            loop.closeNow(.ioThreadShutDown)
            self.thread = nil
        }
    }

    /// Creates a client that does not log.
    ///
    /// - Parameter configuration: Timeouts, TLS and connection limits.
    package convenience init(configuration: HTTPClient.Configuration = .init()) {
        self.init(configuration: configuration, logger: Logger(label: "beacon.http") { _ in SwiftLogNoOpLogHandler() })
    }

    deinit {
        self.close()
    }

    /// Sends a request and returns the whole response.
    ///
    /// The transfer may take ``HTTPRequest/timeout`` or else ``HTTPClient/Configuration/requestTimeout``.
    /// Cancelling the calling task aborts the transfer at once.
    ///
    /// - Parameter request: The request.
    /// - Returns: The response, whatever its status.
    /// - Throws: ``HTTPError`` when the transfer fails (connection, TLS, timeout, closed client), or `CancellationError`
    ///   when the calling task is cancelled.
    package func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = CurlTransfer(request: request, target: self.target(for: request.url), stream: nil)
        return try await withTaskCancellationHandler {
            try await withTransferContinuation { continuation in
                self.loop.submit(transfer, .response(continuation))
            }
        } onCancel: {
            self.loop.cancel(transfer)
        }
    }

    /// Sends a request and returns the whole response, even if the calling task is cancelled meanwhile.
    ///
    /// For clean-up that must reach the server while its task is being cancelled, such as revoking a lease when a
    /// service stops. The transfer is still bounded by its timeout, and ``close()`` still aborts it.
    ///
    /// - Parameter request: The request.
    /// - Returns: The response, whatever its status.
    /// - Throws: ``HTTPError`` when the transfer fails (connection, TLS, timeout, closed client).
    package func executeIgnoringCancellation(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = CurlTransfer(request: request, target: self.target(for: request.url), stream: nil)
        return try await withTransferContinuation { continuation in
            self.loop.submit(transfer, .response(continuation))
        }
    }

    /// Sends a request and returns as soon as the response's status line and headers arrived; the body follows
    /// through the returned stream.
    ///
    /// A stream has no total timeout unless ``HTTPRequest/timeout`` sets one; ``HTTPRequest/idleTimeout`` or
    /// ``HTTPClient/Configuration/streamIdleTimeout`` limits how long it may stay silent. Cancelling the calling
    /// task before this method returns aborts the transfer; afterwards, see ``HTTPResponseStream``.
    ///
    /// - Parameter request: The request.
    /// - Returns: The status, the headers and the body as an asynchronous sequence of chunks.
    /// - Throws: ``HTTPError`` when the transfer fails before the headers arrived, or `CancellationError` when the
    ///   calling task is cancelled.
    package func stream(_ request: HTTPRequest) async throws -> HTTPResponseStream {
        let buffer = StreamBuffer(limit: self.configuration.streamBufferLimit)
        let transfer = CurlTransfer(request: request, target: self.target(for: request.url), stream: buffer)
        let head = try await withTaskCancellationHandler {
            try await withTransferContinuation { continuation in
                self.loop.submit(transfer, .head(continuation))
            }
        } onCancel: {
            buffer.cancel()
            self.loop.cancel(transfer)
        }
        return HTTPResponseStream(head: head, handle: StreamHandle(loop: self.loop, transfer: transfer, buffer: buffer))
    }

    /// The parsed form of a request URL, from the cache when it was seen before.
    private func target(for url: String) -> RequestTarget {
        if let target = self.targets.withLock({ $0[url] }) {
            return target
        }
        let target = RequestTarget(url: url)
        self.targets.withLock { targets in
            if targets.count >= Self.targetCacheLimit {
                targets.removeAll(keepingCapacity: true)
            }
            targets[url] = target
        }
        return target
    }

    /// The client's I/O thread as a task executor.
    ///
    /// Code that prefers it (`withTaskExecutorPreference(client.taskExecutor) { ... }`) runs on the I/O thread
    /// between the loop's turns, so a response resumes it without a thread hand-off. While it runs, none of the
    /// transfers on that thread progress (on a shared thread, those of every client that shares it): it must stay
    /// short and never block. Once the thread has exited (after ``close()`` for a private thread, after
    /// ``HTTPIOThread/shutdown()`` for a shared one), such code runs on the global concurrent executor.
    package var taskExecutor: any TaskExecutor {
        self.thread ?? globalConcurrentExecutor
    }

    /// Whether the calling code runs on the client's I/O thread. For tests and diagnostics.
    package var isOnIOThread: Bool {
        self.thread?.isLoopThread ?? false
    }

    /// The number of transfers (requests and streams) in libcurl's multi handle, as of its last change; requests
    /// waiting for a connection slot are not counted. For diagnostics and tests.
    package var runningTransferCount: Int {
        self.loop.runningCount.load(ordering: .relaxed)
    }

    /// Aborts every transfer, stops the client's own I/O thread and waits for it to exit; on a shared thread, takes
    /// the client off it and leaves it running for the other clients.
    ///
    /// Pending ``execute(_:)`` and ``stream(_:)`` calls, and streams being read, throw ``HTTPError`` with
    /// ``HTTPError/Code/closed``; so do later calls. Calling it again does nothing. It blocks the calling thread
    /// for as long as the I/O thread needs to finish its current turn (normally well under a millisecond). A call
    /// made while another is in progress returns at once.
    package func close() {
        // Done here, on the calling thread: the thread lets go of the loop on its next turn.
        self.loop.closeNow(.clientClosed)
        if self.configuration.ioThread == nil {
            self.thread?.shutdown()
        }
    }
}
