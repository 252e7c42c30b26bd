// SPDX-License-Identifier: Apache-2.0

import Beacon
public import Logging

/// A ZooKeeper client (over libzookeeper_mt's asynchronous API), usable as a discovery source, a service registry and
/// an ephemeral key store.
///
/// ```swift
/// let zookeeper = try ZooKeeperClient(
///     configuration: .init(servers: ["10.0.0.1:2181", "10.0.0.2:2181", "10.0.0.3:2181"]),
///     logger: logger
/// )
/// try await zookeeper.put("/db/main/endpoint", "10.0.0.5:5432")
/// let endpoint = try await zookeeper.require("/db/main/endpoint").endpoint()
/// await zookeeper.close()
/// ```
///
/// Keys are znode paths (below the ``Configuration/chroot``, if any): `/a/b/c` is the znode `/a/b/c`. A node that holds
/// no data, such as the intermediate `/a/b`, is a directory, not an entry: ``get(_:)`` returns `nil` for it and
/// ``list(prefix:)`` leaves it out, as etcd has no entry for `/a/b` when only `/a/b/c` was written. Listing is recursive
/// (every node below the prefix that holds data, at any depth) and costs two reads per node; a watch keeps two
/// one-shot ZooKeeper watches per node (its data and its children) and re-arms each after it fires. Entries' versions
/// are the nodes' `mzxid`.
///
/// libzookeeper keeps one session per client, reconnects by itself to any server of the ensemble and keeps the
/// session's ephemeral nodes and watches across reconnections. Requests that fail because no server answers are
/// retried for ``Configuration/requestTimeout``. Should the session expire, the client opens a new one at once: watches
/// read everything again, and ``run()`` creates the registrations' ephemeral nodes again.
///
/// libzookeeper answers on its own threads (one I/O thread and one completion thread per client), which resume the
/// waiting tasks; no call blocks the Swift concurrency pool. Its log goes to `logger`.
///
/// The client is a `Service`: ``run()`` re-creates the registrations after a session expiry and, when it ends
/// (graceful shutdown or cancellation), deletes them and closes the client. Reads, writes and watches work without it.
/// A client that is not run is released with ``close()``.
public final class ZooKeeperClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: Configuration
    let session: ZooKeeperSession
    let logger: Logger
    /// Whether ``run()`` started, and the ephemeral nodes it keeps.
    let lifecycle = KeepAliveLifecycle()

    /// Creates a client and starts connecting to the ensemble (in the background: the first request waits for the
    /// connection).
    ///
    /// - Parameters:
    ///   - configuration: Servers, chroot, session timeout, credentials and ACL.
    ///   - logger: Where connection changes, session expiries and libzookeeper's own log go.
    /// - Throws: ``ZooKeeperError`` with code ``ZooKeeperError/Code/invalidConfiguration`` when no server is given, a
    ///   server is not `host:port`, or the chroot is not an absolute path.
    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "beacon.zookeeper", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(ZooKeeperError) {
        self.configuration = configuration
        self.logger = logger
        self.session = try ZooKeeperSession(configuration: configuration, logger: logger)
    }

    deinit {
        // Dropped without close() or the end of run(): end the session and stop libzookeeper's threads all the same.
        self.session.closeWithoutWaiting()
    }

    /// Closes the client: ends its session (its ephemeral nodes disappear at once), stops libzookeeper's threads,
    /// and ends ``run()`` if it runs.
    ///
    /// Pending requests and watches fail with ``ZooKeeperError/Code/closed``, and so do later calls. Waits (on a
    /// thread of its own, not the caller's) for the ensemble to acknowledge the end of the session, at most a few
    /// seconds when it does not answer. Idempotent.
    public func close() async {
        for node in self.lifecycle.finish() { node.requestStop() }
        await self.session.close()
    }

    /// How many times the client's session expired and was replaced by a new one.
    public var sessionExpirations: Int { self.session.expirations }

    /// The server of the ensemble the client is connected to now, as `host:port`; `nil` once closed.
    public var currentServer: String? { self.session.currentServer }

    /// The current session's id and password, for a test that makes the session expire by taking it over.
    package var sessionCredentials: (id: Int64, password: [UInt8])? { self.session.sessionCredentials }

    // MARK: Requests

    /// Sends requests, retrying those that fail because no server answers until ``Configuration/requestTimeout``.
    ///
    /// - Parameters:
    ///   - operation: The operation's name, for errors.
    ///   - requests: The requests, sent together.
    ///   - ignoringCancellation: Whether the requests go on when the calling task is cancelled (for clean-up).
    /// - Returns: Each request's outcome, in order; transient failures never appear.
    /// - Throws: ``ZooKeeperError`` (``ZooKeeperError/Code/unavailable`` after the timeout, ``ZooKeeperError/Code/closed``)
    ///   or `CancellationError`.
    func perform(
        _ operation: String,
        _ requests: [Request],
        ignoringCancellation: Bool = false
    ) async throws -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: requests.count)
        var remaining = Array(requests.indices)
        let clock = ContinuousClock()
        let deadline = clock.now + self.configuration.requestTimeout
        var delay = Duration.milliseconds(10)
        var attempts = 0
        while true {
            attempts += 1
            let pending = PendingReplies(count: remaining.count)
            let sending = self.session.send(remaining.map { requests[$0] }, pending: pending)
            if case .closed = sending {
                throw ZooKeeperError(
                    .closed,
                    "the client is closed",
                    operation: operation,
                    path: requests.first?.path,
                    target: self.session.target
                )
            }
            let answers: [Outcome]
            if case .sentDisconnected = sending {
                // Queued until a connection attempt succeeds or fails, which can take a session timeout: bounded by
                // the deadline.
                answers = await Self.wait(for: pending, until: deadline, ignoringCancellation: ignoringCancellation)
            } else if ignoringCancellation {
                answers = await pending.wait()
            } else {
                answers = await withTaskCancellationHandler {
                    await pending.wait()
                } onCancel: {
                    pending.cancel()
                }
            }
            var retry: [Int] = []
            for (answer, index) in zip(answers, remaining) {
                if answer.code == ReturnCode.cancelled { throw CancellationError() }
                if ReturnCode.isTransient(answer.code) { retry.append(index) } else { outcomes[index] = answer }
            }
            if retry.isEmpty { return outcomes.map { $0! } }
            let failure = answers.first { ReturnCode.isTransient($0.code) }!.code
            guard clock.now + delay < deadline else {
                throw ReturnCode.error(
                    failure,
                    operation: operation,
                    path: requests[retry[0]].path,
                    target: self.session.target,
                    attempts: attempts
                )
            }
            if ignoringCancellation {
                try? await Task.sleep(for: delay)
            } else {
                try await Task.sleep(for: delay)
            }
            delay = min(delay * 2, .milliseconds(500))
            remaining = retry
        }
    }

    /// Waits for a batch's answers until a deadline, after which the unanswered requests count as timed out.
    private static func wait(
        for pending: PendingReplies,
        until deadline: ContinuousClock.Instant,
        ignoringCancellation: Bool
    ) async -> [Outcome] {
        await withTaskGroup(of: [Outcome]?.self) { group in
            group.addTask {
                ignoringCancellation
                    ? await pending.wait()
                    : await withTaskCancellationHandler {
                        await pending.wait()
                    } onCancel: {
                        pending.cancel()
                    }
            }
            group.addTask {
                // Cancelled (and so returning at once) when the answers come first.
                if (try? await Task.sleep(until: deadline)) != nil { pending.expire() }
                return nil
            }
            var answers: [Outcome] = []
            while let result = await group.next() {
                guard let result else { continue }
                answers = result
                group.cancelAll()
            }
            return answers
        }
    }

    /// Sends one request; see ``perform(_:_:ignoringCancellation:)``.
    func perform(_ operation: String, _ request: Request, ignoringCancellation: Bool = false) async throws -> Outcome {
        try await self.perform(operation, [request], ignoringCancellation: ignoringCancellation)[0]
    }

    /// The error for an outcome that is not `ZOK`.
    func failure(_ outcome: Outcome, _ operation: String, path: String) -> ZooKeeperError {
        ReturnCode.error(outcome.code, operation: operation, path: path, target: self.session.target)
    }
}
