// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CBeaconLibPQ
import Logging

/// Sends libpq's cancel request for a connection's running query from a short-lived thread of its own.
///
/// libpq 15, the version Beacon builds against on Debian 12, has only the blocking `PQcancel`: it opens a new
/// connection to the server, sends the request and waits until the server closes that connection. So it runs on a
/// detached thread started for it, never on the cooperative pool; the thread ends when `PQcancel` returns. Against a
/// server that is frozen but whose host still accepts TCP connections, `PQcancel` returns only once the server resumes
/// or the connection is reset, so the thread may live that long. To bound such threads, no cancel request is started
/// for a server while an earlier one to it has been unanswered for longer than the grace period: the server is known
/// not to answer, and the caller closes its connection without one.
enum CancelRequest {
    private struct State {
        var nextID: UInt64 = 0
        /// The requests whose thread still runs, per server, with when each started.
        var running: [Endpoint: [UInt64: ContinuousClock.Instant]] = [:]
    }

    private static let state = Lock(State())

    /// The stack of a cancel thread: `PQcancel` uses a few kilobytes, and a debug log line a few more.
    private static let stackSize = 256 * 1024

    /// Starts a thread that sends the cancel request for the query running on a connection.
    ///
    /// - Parameters:
    ///   - handle: The connection, owned by the caller for the duration of this call (the cancel object is a copy).
    ///   - endpoint: The server, for the log and for the bound on unanswered requests.
    ///   - overdueAfter: How long a request may stay unanswered before the server counts as not answering.
    ///   - logger: Where a failed request is logged (debug level).
    /// - Returns: Whether a request was started: `false` when an earlier one to the server is overdue, or when libpq
    ///   or the system refused (no cancel object, no thread).
    static func start(
        for handle: ConnectionHandle,
        endpoint: Endpoint,
        overdueAfter: Duration,
        logger: Logger
    ) -> Bool {
        let now = ContinuousClock.now
        let id = Self.state.withLock { state -> UInt64? in
            let overdue = state.running[endpoint]?.values.contains { $0.duration(to: now) > overdueAfter } ?? false
            guard !overdue else { return nil }
            state.nextID += 1
            state.running[endpoint, default: [:]][state.nextID] = now
            return state.nextID
        }
        guard let id else { return false }
        guard let cancel = PQgetCancel(handle.raw) else {
            Self.finished(endpoint, id)
            return false
        }
        let job = Job(cancel: cancel, endpoint: endpoint, id: id, logger: logger)
        guard BeaconThread.detach(name: "beacon-pgcancel", stackSize: Self.stackSize, { job.run() }) else {
            // The job was released without running, and freed the cancel object with it.
            Self.finished(endpoint, id)
            return false
        }
        return true
    }

    /// How many cancel threads for a server are running now.
    ///
    /// - Parameter endpoint: The server.
    /// - Returns: The number of threads whose request to the server has not returned yet.
    static func runningCount(for endpoint: Endpoint) -> Int {
        Self.state.withLock { $0.running[endpoint]?.count ?? 0 }
    }

    private static func finished(_ endpoint: Endpoint, _ id: UInt64) {
        Self.state.withLock { state in
            state.running[endpoint]?[id] = nil
            if state.running[endpoint]?.isEmpty == true { state.running[endpoint] = nil }
        }
    }

    /// One request: the libpq cancel object and what the thread reports with. Not `Sendable`: it is created by the
    /// caller and handed over to the new thread, which alone uses it from then on.
    private final class Job {
        let cancel: OpaquePointer
        let endpoint: Endpoint
        let id: UInt64
        let logger: Logger

        init(cancel: OpaquePointer, endpoint: Endpoint, id: UInt64, logger: Logger) {
            self.cancel = cancel
            self.endpoint = endpoint
            self.id = id
            self.logger = logger
        }

        deinit {
            PQfreeCancel(self.cancel)
        }

        /// The thread's body: send the request, log a failure. (The cancel object is freed with the job.)
        func run() {
            var buffer = [CChar](repeating: 0, count: 256)
            let sent = PQcancel(self.cancel, &buffer, Int32(buffer.count))
            CancelRequest.finished(self.endpoint, self.id)
            if sent == 0 {
                let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                self.logger.debug(
                    "postgres cancel request failed",
                    metadata: [
                        LogKeys.endpoint: "\(self.endpoint)", LogKeys.error: "\(ConnectionHandle.oneLine(message))",
                    ]
                )
            }
        }
    }
}
