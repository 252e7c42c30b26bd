// SPDX-License-Identifier: Apache-2.0

public import Beacon
public import BeaconCache
import BeaconLocks
public import CoreMetrics
public import Logging

/// Makes PostgreSQL connections to wherever discovery says the database is, and finds it again when it moves.
///
/// ``makeConnection()`` reads the ``PostgresParameters`` through a `CachingSource` and connects. When the connection
/// fails, it invalidates exactly the cache entries it read (the key, the prefix, or the Patroni cluster's keys) and
/// reads them again from discovery. If they changed (the database moved), the next attempt goes to the new location at
/// once; if not, it waits with exponential backoff and jitter (``PostgresRetryPolicy``) and rediscovers again. So a
/// database that moved is found at once rather than after the cache's TTL. After the last attempt (or the policy's
/// deadline) it throws an error listing every attempt.
///
/// The location is a `DiscoveryLocation`:
/// - `.key`: one key holding a JSON object or a `postgresql://` URI (``PostgresParameters/init(parsing:)``);
/// - `.prefix`: one key per field under a prefix (``PostgresParameters/init(entries:prefix:)``);
/// - `.patroniLeader(scope:namespace:)`: the leader of a Patroni cluster. The factory reads the leader key (a member
///   name) and that member's entry, and takes host, port and database from its `conn_url`; credentials never come
///   from Patroni: give them in ``Overrides``. It asks libpq for a primary (`target_session_attrs=primary`, unless
///   the overrides say otherwise), so a former leader that came back as a replica is skipped at connect time.
///
/// A service location (`.service(_:)`) names instances, not connection parameters: every read throws
/// ``PostgresError/Code/invalidParameters`` saying so.
///
/// ``run()`` follows the location with a watch: a change (a new leader published) is seen at once, not only after a
/// failed connect. A ``PostgresConnectionPool`` then drops its idle connections to the former location, and a retry
/// that is waiting out its backoff starts at once. Run it for as long as the factory is used; without it the factory
/// still works, but finds a move only by failing to connect.
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
    /// What the application sets on top of the discovered parameters (credentials, options).
    public let overrides: Overrides

    private let read: @Sendable () async throws -> PostgresParameters
    private let invalidate: @Sendable () -> Void
    private let watch: @Sendable () -> DiscoveryWatch
    private let sleep: @Sendable (Duration) async throws -> Void
    private let stopwatch: @Sendable () -> (@Sendable () -> Duration)
    private let logger: Logger
    let metrics: PostgresMetrics
    /// Moves each time ``run()`` sees the location change.
    private let changes = ChangeSignal()
    /// Moves each time ``run()`` has compared a snapshot of the location (for tests: the watch is following).
    let followed = ChangeSignal()
    /// What the location said when the parameters were last read to connect (see ``fingerprint(of:location:)``), so
    /// that ``run()`` can tell whether its first snapshot already differs from what connections were made with.
    private let lastRead: LastRead

    /// Creates a factory that waits between attempts on the continuous clock.
    ///
    /// - Parameters:
    ///   - source: The cached discovery source to read the parameters through.
    ///   - location: The key, prefix or Patroni leader the parameters come from.
    ///   - overrides: What the application sets itself (its credentials, for a Patroni leader). Default: nothing.
    ///   - retryPolicy: How many attempts (or for how long), and the waits between them.
    ///   - logger: Where attempts are logged: each failed attempt at debug level, a connection made after retries and a
    ///     changed location at info level. Never a password.
    ///   - metricsFactory: The factory for the counters and timer; `nil` uses the global metrics system.
    public convenience init<Base: DiscoverySource>(
        source: CachingSource<Base>,
        location: DiscoveryLocation,
        overrides: Overrides = Overrides(),
        retryPolicy: PostgresRetryPolicy = PostgresRetryPolicy(),
        logger: Logger = Logger(label: "beacon.postgres", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.init(
            source: source,
            location: location,
            overrides: overrides,
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
    ///   - location: The key, prefix or Patroni leader the parameters come from.
    ///   - overrides: What the application sets itself. Default: nothing.
    ///   - retryPolicy: How many attempts (or for how long), and the waits between them.
    ///   - clock: The clock the waits between attempts sleep on, and the policy's deadline is measured on.
    ///   - logger: Where attempts are logged.
    ///   - metricsFactory: The factory for the counters and timer; `nil` uses the global metrics system.
    public init<Base: DiscoverySource, C: Clock>(
        source: CachingSource<Base>,
        location: DiscoveryLocation,
        overrides: Overrides = Overrides(),
        retryPolicy: PostgresRetryPolicy = PostgresRetryPolicy(),
        clock: C,
        logger: Logger = Logger(label: "beacon.postgres", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil
    ) where C.Duration == Duration {
        self.location = location
        self.overrides = overrides
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.metrics = PostgresMetrics(factory: metricsFactory)
        let lastRead = LastRead()
        self.lastRead = lastRead
        if let key = location.key {
            self.read = {
                guard let entry = try await source.get(key) else {
                    throw PostgresError(.invalidParameters, "the key is absent", key: key)
                }
                lastRead.record(
                    Self.fingerprint(of: DiscoverySnapshot(prefix: key, entries: [entry]), location: location)
                )
                return overrides.applied(to: try PostgresParameters(parsing: entry))
            }
            self.invalidate = { source.invalidate(key: key) }
        } else if let prefix = location.prefix {
            self.read = {
                let entries = try await source.list(prefix: prefix)
                lastRead.record(
                    Self.fingerprint(of: DiscoverySnapshot(prefix: prefix, entries: entries), location: location)
                )
                return overrides.applied(to: try PostgresParameters(entries: entries, prefix: prefix))
            }
            self.invalidate = { source.invalidate(prefix: prefix) }
        } else if let cluster = location.patroni {
            self.read = {
                let snapshot = DiscoverySnapshot(
                    prefix: cluster.path,
                    entries: try await source.list(prefix: cluster.path)
                )
                lastRead.record(Self.fingerprint(of: snapshot, location: location))
                return try Self.leaderParameters(in: snapshot, of: cluster, overrides: overrides)
            }
            self.invalidate = { source.invalidate(prefix: cluster.path) }
        } else {
            self.read = {
                throw PostgresError(
                    .invalidParameters,
                    "connection parameters are read from a key, a prefix or a Patroni leader; \(location) names "
                        + "instances, not connection parameters"
                )
            }
            self.invalidate = {}
        }
        let watched = location.watchPrefix
        self.watch = { source.watch(prefix: watched) }
        self.sleep = { duration in try await clock.sleep(for: duration) }
        self.stopwatch = {
            let start = clock.now
            return { start.duration(to: clock.now) }
        }
    }

    /// How many times ``run()`` has seen the location change.
    var generation: UInt64 { self.changes.generation }

    /// Reads, through the cache, the parameters of the location as they are now. No connection is made.
    ///
    /// - Returns: The parameters, with the ``overrides`` applied (their description masks the password).
    /// - Throws: ``PostgresError``: ``PostgresError/Code/invalidParameters`` naming the key when the value is
    ///   malformed, ``PostgresError/Code/noLeader`` when a Patroni cluster has no leader; or the source's error.
    public func currentParameters() async throws -> PostgresParameters {
        try await self.read()
    }

    // MARK: Connecting

    /// Reads the parameters through the cache and connects, rediscovering and retrying on failure.
    ///
    /// - Returns: An open connection, owned by the caller.
    /// - Throws: ``PostgresError``: ``PostgresError/Code/allAttemptsFailed`` listing every attempt (servers and
    ///   error) after the last one or once the policy's deadline has passed; ``PostgresError/Code/authenticationFailed``
    ///   (with the attempts) when the server rejects credentials that discovery still holds;
    ///   ``PostgresError/Code/invalidParameters`` naming the key when the discovered value is malformed (the entry is
    ///   invalidated, so the next call reads it again). `CancellationError` as soon as the task is cancelled: no
    ///   further attempt is made, and a connection being opened is closed.
    public func makeConnection() async throws -> PostgresConnection {
        var attempts: [PostgresConnectionAttempt] = []
        var generator = SystemRandomNumberGenerator()
        var reread: PostgresParameters?
        let clock = ContinuousClock()
        let elapsed = self.stopwatch()
        var number = 0
        while true {
            number += 1
            try Task.checkCancellation()
            let generation = self.changes.generation
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
                self.invalidate()
                guard try await self.pause(after: number, generation: generation, elapsed, &generator) else { break }
                continue
            }
            let start = clock.now
            do {
                let connection = try await PostgresConnection.connect(
                    to: parameters,
                    logger: self.logger,
                    locationGeneration: generation
                )
                self.metrics.connectDuration.recordNanoseconds(start.duration(to: clock.now).saturatedNanoseconds)
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
                if let fresh, fresh != parameters || self.changes.generation != generation {
                    guard self.retryPolicy.allowsAttempt(after: number, elapsed: elapsed()) else { break }
                    reread = fresh
                    continue
                }
                if failure.code == .authenticationFailed {
                    // A wrong password stays wrong: discovery still holds the same parameters, so stop here.
                    self.metrics.exhausted.increment()
                    failure.attempts = attempts
                    throw failure
                }
                guard try await self.pause(after: number, generation: generation, elapsed, &generator) else { break }
                self.invalidate()
            }
        }
        self.metrics.exhausted.increment()
        let within = self.retryPolicy.deadline.map { " within \($0)" } ?? ""
        throw PostgresError(
            .allAttemptsFailed,
            "\(attempts.count) attempts to connect failed\(within)",
            key: self.location.watchPrefix,
            attempts: attempts
        )
    }

    /// Waits the backoff after a failed attempt, cut short by the deadline or by a change of the location; returns
    /// `false` when no attempt may follow.
    private func pause(
        after number: Int,
        generation: UInt64,
        _ elapsed: () -> Duration,
        _ generator: inout SystemRandomNumberGenerator
    ) async throws -> Bool {
        guard self.retryPolicy.allowsAttempt(after: number, elapsed: elapsed()) else { return false }
        var wait = self.retryPolicy.jitteredBackoff(after: number, using: &generator)
        if let deadline = self.retryPolicy.deadline { wait = min(wait, deadline - elapsed()) }
        guard wait > .zero, self.changes.generation == generation else { return true }
        let sleep = self.sleep
        let changes = self.changes
        let duration = wait
        try await withThrowingTaskGroup { group in
            group.addTask { try await sleep(duration) }
            group.addTask { await changes.wait(after: generation) }
            defer { group.cancelAll() }
            try await group.next()
        }
        try Task.checkCancellation()
        return true
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

    // MARK: Following the location

    /// Follows the location with a watch until the calling task is cancelled.
    ///
    /// Each time what the location says changes (another value at the key or under the prefix, another Patroni leader
    /// or leader address; a value merely written again or a member's routine refresh is no change), the factory
    /// invalidates its cache entries and moves its location generation: a ``PostgresConnectionPool`` over this factory
    /// then closes its idle connections made before the change, so the next request connects to the new location, and
    /// a ``makeConnection()`` waiting out its backoff tries again at once.
    ///
    /// The caller owns this loop: run it in a task group or a service group next to the work that uses the factory,
    /// and cancel it to stop. It starts no task of its own. When the source's watch fails, the failure is logged (info)
    /// and the watch is started again after a second.
    ///
    /// The first snapshot counts as a change too when it differs from what the factory last read to connect (the
    /// location changed between a first connection and the start of the watch).
    public func run() async {
        var last: [KeyValue]?
        while !Task.isCancelled {
            do {
                for try await snapshot in self.watch() {
                    let current = Self.fingerprint(of: snapshot, location: self.location)
                    if let seen = last ?? self.lastRead.value, seen != current {
                        self.invalidate()
                        self.changes.signal()
                        self.logger.info(
                            "postgres location changed",
                            metadata: [
                                LogKeys.key: "\(self.location.watchPrefix)",
                                LogKeys.endpoints: "\(self.summary(of: snapshot))",
                            ]
                        )
                    }
                    last = current
                    self.followed.signal()
                }
            } catch is CancellationError {
                break
            } catch {
                self.logger.info(
                    "postgres location could not be watched",
                    metadata: [LogKeys.key: "\(self.location.watchPrefix)", LogKeys.error: "\(error)"]
                )
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// What a location says in a snapshot, without versions: equal fingerprints mean nothing changed for a client.
    private static func fingerprint(of snapshot: DiscoverySnapshot, location: DiscoveryLocation) -> [KeyValue] {
        if let key = location.key {
            return snapshot[key: key].map { [KeyValue(key: key, value: $0.value)] } ?? []
        }
        if let prefix = location.prefix {
            return snapshot.filter { $0.key.hasPrefix(prefix) }.map { KeyValue(key: $0.key, value: $0.value) }
        }
        if let cluster = location.patroni {
            // Only the leader and where it listens matter, not the members' refreshed positions.
            let leader = try? cluster.leader(in: snapshot)
            let text = leader.map { "\($0.name) \($0.endpoint) \($0.database ?? "")" } ?? ""
            return [KeyValue(key: cluster.leaderKey, string: text)]
        }
        return []
    }

    /// The endpoints a snapshot points at, for the log line of a change.
    private func summary(of snapshot: DiscoverySnapshot) -> String {
        if let cluster = self.location.patroni {
            return (try? cluster.leader(in: snapshot)).flatMap { $0 }.map { "\($0)" } ?? "no leader"
        }
        return "\(snapshot.count) entries"
    }

    /// Parameters for the leader of a Patroni cluster: host, port and database from its `conn_url`, with the overrides.
    static func leaderParameters(
        in snapshot: DiscoverySnapshot,
        of cluster: DiscoveryLocation.PatroniCluster,
        overrides: Overrides
    ) throws(PostgresError) -> PostgresParameters {
        let leader: DiscoveryLocation.PatroniMember?
        do {
            leader = try cluster.leader(in: snapshot)
        } catch {
            if error.code == .notFound {
                throw PostgresError(.noLeader, error.message, key: error.key)
            }
            throw PostgresError(.invalidParameters, "\(error)", key: error.key)
        }
        guard let leader else {
            throw PostgresError(.noLeader, "the cluster has no leader now", key: cluster.leaderKey)
        }
        var parameters = PostgresParameters(
            endpoints: [leader.endpoint],
            database: leader.database,
            targetSessionAttributes: .primary
        )
        parameters = overrides.applied(to: parameters)
        return parameters
    }
}

/// The fingerprint of what the location said when a factory last read its parameters to connect.
private final class LastRead: Sendable {
    private let fingerprint = Lock<[KeyValue]?>(nil)

    /// The fingerprint of the last read; `nil` before the first.
    var value: [KeyValue]? { self.fingerprint.withLock { $0 } }

    /// Records the fingerprint of a read.
    func record(_ value: [KeyValue]) {
        self.fingerprint.withLock { $0 = value }
    }
}
