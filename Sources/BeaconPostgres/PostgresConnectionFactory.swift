// SPDX-License-Identifier: Apache-2.0

public import Beacon
public import BeaconCache
public import CoreMetrics
public import Logging

/// Makes PostgreSQL connections to wherever discovery says the database is, and finds it again when it moves.
///
/// ``makeConnection()`` reads the ``PostgresParameters`` through a ``CachingSource`` and connects. When the connection
/// fails, it invalidates exactly the cache entries it read (the key, or the prefix) and reads them again from
/// discovery. If they changed (the database moved), the next attempt goes to the new location at once; if not, it
/// waits with exponential backoff and jitter (``PostgresRetryPolicy``) and rediscovers again. So a database that moved
/// is found at once rather than after the cache's TTL. After the last attempt it throws an error listing every attempt.
///
/// An authentication failure is not retried blindly: the factory tries again only if the reread parameters changed (a
/// new password published in discovery); otherwise it throws right away.
///
/// ```swift
/// let source = CachingSource(etcd, configuration: .init(ttl: .seconds(600)), logger: logger)
/// let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
/// let connection = try await factory.makeConnection()
/// defer { connection.close() }
/// ```
public final class PostgresConnectionFactory: Sendable {
    /// Where the parameters are read.
    public let location: DiscoveryLocation
    /// How attempts are retried.
    public let retryPolicy: PostgresRetryPolicy

    private let read: @Sendable () async throws -> PostgresParameters
    private let invalidate: @Sendable () -> Void
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger
    let metrics: PostgresMetrics

    /// Creates a factory that waits between attempts on the continuous clock.
    ///
    /// - Parameters:
    ///   - source: The cached discovery source to read the parameters through.
    ///   - location: The key or prefix holding the parameters.
    ///   - retryPolicy: How many attempts, and the waits between them.
    ///   - logger: Where attempts are logged: each failed attempt at debug level, a connection made after retries at
    ///     info level. Never a password.
    ///   - metricsFactory: The factory for the counters and timer; `nil` uses the global metrics system.
    public convenience init<Base: DiscoverySource>(
        source: CachingSource<Base>,
        location: DiscoveryLocation,
        retryPolicy: PostgresRetryPolicy = PostgresRetryPolicy(),
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.init(
            source: source,
            location: location,
            retryPolicy: retryPolicy,
            clock: ContinuousClock(),
            logger: logger,
            metricsFactory: metricsFactory
        )
    }

    /// Creates a factory that waits between attempts on a given clock (a manual clock in tests).
    ///
    /// - Parameters:
    ///   - source: The cached discovery source to read the parameters through.
    ///   - location: The key or prefix holding the parameters.
    ///   - retryPolicy: How many attempts, and the waits between them.
    ///   - clock: The clock the waits between attempts sleep on.
    ///   - logger: Where attempts are logged.
    ///   - metricsFactory: The factory for the counters and timer; `nil` uses the global metrics system.
    public init<Base: DiscoverySource, C: Clock>(
        source: CachingSource<Base>,
        location: DiscoveryLocation,
        retryPolicy: PostgresRetryPolicy = PostgresRetryPolicy(),
        clock: C,
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) where C.Duration == Duration {
        self.location = location
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.metrics = PostgresMetrics(factory: metricsFactory)
        if let key = location.key {
            self.read = {
                guard let entry = try await source.get(key) else {
                    throw PostgresError(.invalidParameters, "the key is absent", key: key)
                }
                return try PostgresParameters(parsing: entry)
            }
            self.invalidate = { source.invalidate(key: key) }
        } else if let prefix = location.prefix {
            self.read = {
                try PostgresParameters(entries: try await source.list(prefix: prefix), prefix: prefix)
            }
            self.invalidate = { source.invalidate(prefix: prefix) }
        } else {
            self.read = {
                throw PostgresError(
                    .invalidParameters,
                    "connection parameters are read from a key or a prefix, not from \(location)"
                )
            }
            self.invalidate = {}
        }
        self.sleep = { duration in try await clock.sleep(for: duration) }
    }

    /// Reads the parameters through the cache and connects, rediscovering and retrying on failure.
    ///
    /// - Returns: An open connection, owned by the caller.
    /// - Throws: ``PostgresError``: ``PostgresError/Code/allAttemptsFailed`` listing every attempt (servers and
    ///   error) after the last one; ``PostgresError/Code/authenticationFailed`` (with the attempts) when the server
    ///   rejects credentials that discovery still holds; ``PostgresError/Code/invalidParameters`` naming the key when
    ///   the discovered value is malformed (the entry is invalidated, so the next call reads it again).
    ///   `CancellationError` as soon as the task is cancelled: no further attempt is made, and a connection being
    ///   opened is closed.
    public func makeConnection() async throws -> PostgresConnection {
        var attempts: [PostgresConnectionAttempt] = []
        var generator = SystemRandomNumberGenerator()
        var reread: PostgresParameters?
        let clock = ContinuousClock()
        for number in 1...self.retryPolicy.maxAttempts {
            try Task.checkCancellation()
            let parameters: PostgresParameters
            do {
                if let known = reread {
                    parameters = known
                    reread = nil
                } else {
                    parameters = try await self.read()
                }
            } catch let error as PostgresError where error.code == .invalidParameters {
                self.invalidate()
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                attempts.append(PostgresConnectionAttempt(number: number, endpoints: [], error: error))
                self.logFailure(number, [], error)
                if number < self.retryPolicy.maxAttempts {
                    try await self.sleep(self.retryPolicy.jitteredBackoff(after: number, using: &generator))
                }
                continue
            }
            let start = clock.now
            do {
                let connection = try await PostgresConnection.connect(to: parameters, logger: self.logger)
                self.metrics.connectDuration.recordNanoseconds(Self.nanoseconds(start.duration(to: clock.now)))
                self.metrics.connected.increment()
                if number > 1 {
                    self.logger.info(
                        "postgres connected after retries",
                        metadata: [
                            LogKeys.attempt: "\(number)", LogKeys.endpoint: "\(connection.endpoint)",
                            LogKeys.key: "\(self.location.watchPrefix)",
                        ]
                    )
                }
                return connection
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                var failure = error as? PostgresError ?? PostgresError(.connectionFailed, "\(error)")
                failure.key = self.location.watchPrefix
                attempts.append(
                    PostgresConnectionAttempt(number: number, endpoints: parameters.endpoints, error: failure)
                )
                self.logFailure(number, parameters.endpoints, failure)
                self.metrics.attemptFailed.increment()
                // Rediscover at once: new parameters are worth trying without waiting.
                self.invalidate()
                let fresh: PostgresParameters?
                do {
                    fresh = try await self.read()
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    fresh = nil
                }
                if let fresh, fresh != parameters {
                    reread = fresh
                    continue
                }
                if failure.code == .authenticationFailed {
                    // A wrong password stays wrong: discovery still holds the same parameters, so stop here.
                    self.metrics.exhausted.increment()
                    failure.attempts = attempts
                    throw failure
                }
                if number < self.retryPolicy.maxAttempts {
                    try await self.sleep(self.retryPolicy.jitteredBackoff(after: number, using: &generator))
                    self.invalidate()
                }
            }
        }
        self.metrics.exhausted.increment()
        throw PostgresError(
            .allAttemptsFailed,
            "\(attempts.count) attempts to connect failed",
            key: self.location.watchPrefix,
            attempts: attempts
        )
    }

    private func logFailure(_ number: Int, _ endpoints: [Endpoint], _ error: any Error) {
        self.logger.debug(
            "postgres connection attempt failed",
            metadata: [
                LogKeys.attempt: "\(number)",
                LogKeys.endpoints: "\(endpoints.map(\.description).joined(separator: ","))",
                LogKeys.key: "\(self.location.watchPrefix)",
                LogKeys.error: "\(error)",
            ]
        )
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
