// SPDX-License-Identifier: Apache-2.0

public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps an instance registered while it is healthy: a swift-service-lifecycle `Service` that checks the instance
/// every ``Configuration/interval`` and registers or withdraws it.
///
/// ```swift
/// let etcd = try EtcdClient(configuration: .init(endpoints: ["http://127.0.0.1:2379"]), logger: logger)
/// let watchdog = RegistrationWatchdog(
///     check: .http("http://127.0.0.1:8001/health"),
///     target: .key("/test/apache-8001", value: "127.0.0.1:8001", in: etcd),
///     logger: logger
/// )
/// // The watchdog last: it hears of the shutdown first and withdraws while the etcd client still runs.
/// let group = ServiceGroup(services: [etcd, watchdog], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// - When a check passes and the instance is not registered, the watchdog registers it at once (``State/registered``).
/// - After ``Configuration/failureThreshold`` consecutive failed checks it withdraws the registration at once
///   (``State/unhealthy``); the next passing check registers it again.
/// - When registering fails (the registry cannot be reached), the failure is logged and retried on later passing
///   checks, waiting ``Configuration/retryDelay``, doubled on each failure up to ``Configuration/maximumRetryDelay``
///   (``State/registrationFailed``). Nothing the registry or the check does makes ``run()`` throw or crash.
/// - On graceful shutdown and on cancellation it withdraws the registration, waits ``Configuration/drainDelay`` (on
///   graceful shutdown only), and returns (``State/stopping``, then ``State/stopped``).
///
/// While registered, the registry keeps the registration alive (the etcd client's `run()` renews its lease): the
/// watchdog only decides when it exists. If the process dies, it disappears when ``Configuration/ttl`` runs out.
///
/// Transitions are logged at info level with the check, the instance or key, and the error; single failed checks at
/// debug level. Nothing is logged above info, and no credential: URLs appear without user information or query.
public final class RegistrationWatchdog: Service, Sendable {
    /// The check that decides whether the instance is healthy.
    public let check: HealthCheck
    /// What is registered while the instance is healthy.
    public let target: RegistrationTarget
    /// The configuration the watchdog was created with.
    public let configuration: Configuration

    private let logger: Logger
    private let broadcast = StateBroadcast()
    private let started = Atomic<Bool>(false)

    /// A withdrawal of the current registration.
    private typealias Withdraw = @Sendable () async -> Void

    /// Creates a watchdog; nothing is checked or registered until ``run()``.
    ///
    /// - Parameters:
    ///   - check: How to tell that the instance is healthy.
    ///   - target: What to register while it is, and where.
    ///   - configuration: Interval, threshold, TTL and backoff.
    ///   - logger: Where transitions (info) and failed checks (debug) are logged. Default: no logging.
    public init(
        check: HealthCheck,
        target: RegistrationTarget,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.register", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.check = check
        self.target = target
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LogKey.check] = "\(check)"
        for (key, value) in target.metadata { logger[metadataKey: key] = value }
        self.logger = logger
    }

    /// The current state.
    public var state: State { self.broadcast.state }

    /// The current state, then every change, until ``run()`` returns.
    ///
    /// - Returns: The states; see ``StateUpdates``.
    public func stateUpdates() -> StateUpdates {
        self.broadcast.subscribe()
    }

    /// Checks, registers and withdraws until graceful shutdown or cancellation, then withdraws the registration.
    ///
    /// Run it in the same `ServiceGroup` as the registry's client (after it, so that it stops first). It never
    /// throws. `run()` may be called once: a second call is a programming error and stops the process.
    public func run() async {
        precondition(
            self.started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged,
            "RegistrationWatchdog.run() may be called only once"
        )
        let checker = HealthChecker(
            check: self.check,
            timeout: self.configuration.checkTimeout,
            ioThread: self.configuration.ioThread,
            logger: self.logger
        )
        let withdraw = await cancelWhenGracefulShutdown { await self.watch(checker) }
        // Graceful shutdown cancelled only the checks, not this task.
        let graceful = !Task.isCancelled
        self.broadcast.set(.stopping)
        if let withdraw {
            await withdraw()
            self.logger.info("Stopping; withdrew the registration")
        }
        if graceful && self.configuration.drainDelay > .zero {
            try? await Task.sleep(for: self.configuration.drainDelay)
        }
        checker.close()
        self.broadcast.set(.stopped)
    }

    /// The checks, until the task is cancelled.
    ///
    /// - Returns: The withdrawal of the registration still live, if any.
    private func watch(_ checker: HealthChecker) async -> Withdraw? {
        let threshold = max(1, self.configuration.failureThreshold)
        var registration: Withdraw?
        var failures = 0
        var retryDelay = self.configuration.retryDelay
        var retryAt: ContinuousClock.Instant?
        checking: while !Task.isCancelled {
            switch await checker.run() {
            case .success:
                failures = 0
                guard registration == nil, retryAt.map({ ContinuousClock.now >= $0 }) ?? true else { break }
                do {
                    registration = try await self.target.register(self.configuration.ttl)
                } catch {
                    if Task.isCancelled { break checking }
                    self.logger.info(
                        "Instance is healthy but registering failed; retrying",
                        metadata: [LogKey.error: "\(error)", LogKey.retryIn: "\(retryDelay)"]
                    )
                    retryAt = .now + retryDelay
                    retryDelay = min(retryDelay * 2, max(self.configuration.maximumRetryDelay, retryDelay))
                    self.broadcast.set(.registrationFailed)
                    break
                }
                retryAt = nil
                retryDelay = self.configuration.retryDelay
                self.broadcast.set(.registered)
                self.logger.info("Instance is healthy; registered", metadata: [LogKey.ttl: "\(self.configuration.ttl)"])
            case .failure(let error):
                if Task.isCancelled { break checking }
                failures += 1
                self.logger.debug(
                    "Health check failed",
                    metadata: [LogKey.failures: "\(failures)", LogKey.error: "\(error)"]
                )
                guard failures >= threshold else { break }
                if let withdraw = registration {
                    registration = nil
                    await withdraw()
                    self.logger.info(
                        "Instance is unhealthy; withdrew the registration",
                        metadata: [LogKey.failures: "\(failures)", LogKey.error: "\(error)"]
                    )
                } else if self.broadcast.state != .unhealthy {
                    self.logger.info(
                        "Instance is unhealthy; not registering it",
                        metadata: [LogKey.failures: "\(failures)", LogKey.error: "\(error)"]
                    )
                }
                // A recovered instance registers at once, whatever happened before.
                retryAt = nil
                retryDelay = self.configuration.retryDelay
                self.broadcast.set(.unhealthy)
            }
            do {
                try await Task.sleep(for: self.configuration.interval)
            } catch {
                break
            }
        }
        return registration
    }
}
