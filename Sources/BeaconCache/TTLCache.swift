// SPDX-License-Identifier: Apache-2.0

import Beacon
public import BeaconLocks
public import CoreMetrics
public import Logging
public import ServiceLifecycle

/// A short-TTL cache for values that are expensive to fetch and must follow changes within seconds, such as
/// answers from a discovery backend.
///
/// - A fresh entry is returned without calling `load`: a read costs a lock, a dictionary lookup and a read of
///   a coarse monotonic clock.
/// - Otherwise loads are **single-flight**: one load per key at a time, shared by every concurrent caller. If
///   it throws, every waiter gets the error and the next read loads again.
/// - Lifetimes are **jittered** (``TTLCacheConfiguration/jitter``) so that entries loaded together do not
///   expire together.
/// - **Stale-if-error**: when a reload fails, the last good value is served while it is younger than
///   ``TTLCacheConfiguration/maxStale``; the failure is logged once per episode and counted.
/// - **Negative caching**: a load that returns `nil` ("absent") is remembered for
///   ``TTLCacheConfiguration/negativeTTL``.
/// - Optional **refresh-ahead** (needs ``run()``: the cache is a `Service`), **LRU bound**, and **persistence** of the
///   last good values.
///
/// ```swift
/// let cache = TTLCache<String, Endpoint>(configuration: .init(ttl: .seconds(5)), logger: logger)
/// let endpoint = try await cache.value(for: "/db/main/endpoint") { key in
///     try await source.get(key)?.endpoint()
/// }
/// ```
///
/// The cache is `Sendable`: a pure value-type core (every decision takes the time as an argument) inside a
/// `Lock`. Loads run outside the lock, in the calling task; nothing is started in the background except by
/// ``run()``, and, with persistence, a writer thread that lives while changes wait to be written (see
/// ``CachePersistence``).
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable, Service {
    /// A reload requested by refresh-ahead.
    @usableFromInline
    struct RefreshRequest: Sendable {
        var key: Key
        var load: @Sendable (Key) async throws -> Value?
    }

    @usableFromInline
    struct Shell {
        @usableFromInline var core: CacheState<Key, Value>
        var refreshRequests: AsyncStream<RefreshRequest>.Continuation?
        var nextWaiterID: UInt64 = 0
    }

    /// The name used in metrics, logs and the persistence file.
    public let name: String
    /// The configuration the cache was created with (fractions clamped into range).
    public let configuration: TTLCacheConfiguration
    @usableFromInline let shell: Lock<Shell>
    @usableFromInline let time: any CacheTimeSource
    let logger: Logger
    @usableFromInline let metrics: CacheMetrics
    let persistence: CachePersistence<Key, Value>?
    /// Writes the persistence file off the caller's thread; `nil` without persistence.
    let writer: PersistenceWriter?

    /// Creates a cache that reads time from a clock of your choice (tests pass a manual clock).
    ///
    /// - Parameters:
    ///   - name: The cache's name in metrics (`beacon.cache.name`), logs and its persistence file.
    ///   - configuration: TTL, jitter, stale-if-error, negative caching, refresh-ahead and size bound.
    ///   - clock: The clock that ages entries.
    ///   - logger: Where failure episodes and persistence problems are logged.
    ///   - metricsFactory: The factory for the cache's counters; `nil` uses the global metrics system.
    ///   - persistence: Where to keep the last good values on disk, or `nil` (the default) for none.
    public convenience init<C: Clock>(
        name: String = "cache",
        configuration: TTLCacheConfiguration = TTLCacheConfiguration(),
        clock: C,
        logger: Logger = Logger(label: "beacon.cache", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil,
        persistence: CachePersistence<Key, Value>? = nil
    ) where C.Duration == Duration {
        self.init(
            name: name,
            configuration: configuration,
            time: ClockTime(clock),
            logger: logger,
            metricsFactory: metricsFactory,
            persistence: persistence
        )
    }

    /// Creates a cache that ages entries with the system's coarse monotonic clock (resolution 1 to 4 ms).
    ///
    /// - Parameters:
    ///   - name: The cache's name in metrics (`beacon.cache.name`), logs and its persistence file.
    ///   - configuration: TTL, jitter, stale-if-error, negative caching, refresh-ahead and size bound.
    ///   - logger: Where failure episodes and persistence problems are logged.
    ///   - metricsFactory: The factory for the cache's counters; `nil` uses the global metrics system.
    ///   - persistence: Where to keep the last good values on disk, or `nil` (the default) for none.
    public convenience init(
        name: String = "cache",
        configuration: TTLCacheConfiguration = TTLCacheConfiguration(),
        logger: Logger = Logger(label: "beacon.cache", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil,
        persistence: CachePersistence<Key, Value>? = nil
    ) {
        self.init(
            name: name,
            configuration: configuration,
            time: CoarseMonotonicTime(),
            logger: logger,
            metricsFactory: metricsFactory,
            persistence: persistence
        )
    }

    private init(
        name: String,
        configuration: TTLCacheConfiguration,
        time: any CacheTimeSource,
        logger: Logger,
        metricsFactory: (any MetricsFactory)?,
        persistence: CachePersistence<Key, Value>?
    ) {
        self.name = name
        self.configuration = configuration.validated()
        self.time = time
        var logger = logger
        logger[metadataKey: "beacon.cache.name"] = "\(name)"
        self.logger = logger
        self.metrics = CacheMetrics(name: name, factory: metricsFactory)
        self.persistence = persistence
        self.writer = persistence.map { persistence in
            PersistenceWriter(
                path: persistence.path,
                interval: configuration.persistenceInterval,
                logger: logger,
                writes: CacheMetrics.counter("beacon.cache.persistence_writes", name: name, factory: metricsFactory),
                failures: CacheMetrics.counter(
                    "beacon.cache.persistence_failures",
                    name: name,
                    factory: metricsFactory
                )
            )
        }
        self.shell = Lock(Shell(core: CacheState(configuration: self.configuration)))
        if persistence != nil { self.restorePersistedEntries() }
    }

    // MARK: Reading

    /// Returns the value for a key, loading it when the cached one is missing or expired.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - load: Fetches the value from its source; return `nil` when the source says the key is absent. Called
    ///     at most once at a time per key, from one of the calling tasks.
    /// - Returns: The value, or `nil` when the key is absent.
    /// - Throws: The load's error when there is no value young enough to serve stale, or `CancellationError`
    ///   when the calling task is cancelled while waiting.
    @inlinable
    public func value(for key: Key, load: @escaping @Sendable (Key) async throws -> Value?) async throws -> Value? {
        let hit = self.freshLookup(key)
        if let hit, !hit.refresh { return hit.lookup.value }
        return try await self.slowLookup(key, load: load, refreshing: hit?.lookup).value
    }

    /// Returns the value for a key with its freshness, loading it when needed.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - load: Fetches the value from its source; return `nil` when the source says the key is absent.
    /// - Returns: The value and whether it is fresh or stale, with its age.
    /// - Throws: The load's error when there is no value young enough to serve stale, or `CancellationError`.
    @inlinable
    public func lookup(
        for key: Key,
        load: @escaping @Sendable (Key) async throws -> Value?
    ) async throws -> CacheLookup<Value> {
        let hit = self.freshLookup(key)
        if let hit, !hit.refresh { return hit.lookup }
        return try await self.slowLookup(key, load: load, refreshing: hit?.lookup)
    }

    /// The hit path: inlined into callers so that it is specialized for their key and value types.
    ///
    /// It does not take the caller's `load`: passing a closure typed with concrete types where a generic one is
    /// expected makes a reabstraction thunk, a heap allocation on every hit. Only a refresh-ahead request needs it.
    ///
    /// - Returns: The hit, and whether the caller should request a refresh-ahead reload; `nil` on a miss.
    @inlinable
    func freshLookup(_ key: Key) -> (lookup: CacheLookup<Value>, refresh: Bool)? {
        let now = self.time.now()
        guard case .hit(let lookup, let refresh)? = self.shell.withLock({ $0.core.fastRead(key, now: now) }) else {
            return nil
        }
        self.metrics.hits.increment()
        if lookup.freshness.isStale { self.metrics.staleServed.increment() }
        return (lookup, refresh)
    }

    /// Returns the value for a key, loading it with `load(context, key)` when needed: for callers whose load needs
    /// values of theirs (a source, say). A closure literal that captures them would have its captures boxed on the
    /// heap on every call, hits included; passed as `context` to a closure that captures nothing, they are boxed only
    /// when a load is needed.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - context: What `load` needs.
    ///   - load: Fetches the value; it should capture nothing.
    /// - Returns: The value, or `nil` when the key is absent.
    /// - Throws: As ``value(for:load:)``.
    @inlinable
    func value<Context: Sendable>(
        for key: Key,
        with context: Context,
        load: @escaping @Sendable (Context, Key) async throws -> Value?
    ) async throws -> Value? {
        let hit = self.freshLookup(key)
        if let hit, !hit.refresh { return hit.lookup.value }
        return try await self.slowLookup(key, with: context, load: load, refreshing: hit?.lookup).value
    }

    /// ``lookup(for:load:)`` with the load's values passed as `context`; see ``value(for:with:load:)``.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - context: What `load` needs.
    ///   - load: Fetches the value; it should capture nothing.
    /// - Returns: The value and whether it is fresh or stale, with its age.
    /// - Throws: As ``lookup(for:load:)``.
    @inlinable
    func lookup<Context: Sendable>(
        for key: Key,
        with context: Context,
        load: @escaping @Sendable (Context, Key) async throws -> Value?
    ) async throws -> CacheLookup<Value> {
        let hit = self.freshLookup(key)
        if let hit, !hit.refresh { return hit.lookup }
        return try await self.slowLookup(key, with: context, load: load, refreshing: hit?.lookup)
    }

    /// ``slowLookup(_:load:refreshing:)`` for a load that takes a context: the closure that binds it is made here.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - context: What `load` needs.
    ///   - load: The caller's load.
    ///   - refreshing: The hit to return after requesting its reload, or `nil` for a miss.
    /// - Returns: The hit, or what the load gave.
    /// - Throws: As ``lookup(for:load:)``.
    @inlinable
    @inline(never)
    func slowLookup<Context: Sendable>(
        _ key: Key,
        with context: Context,
        load: @escaping @Sendable (Context, Key) async throws -> Value?,
        refreshing: CacheLookup<Value>?
    ) async throws -> CacheLookup<Value> {
        try await self.slowLookup(key, load: { key in try await load(context, key) }, refreshing: refreshing)
    }

    /// Everything but a plain hit: a hit that asks for a refresh-ahead reload, or a miss.
    ///
    /// `@inline(never)` keeps it out of the caller, and `@inlinable` lets the caller specialize it: the caller's
    /// `load` is then passed as it is, and turned into the generic closure the non-inlinable paths take (a heap
    /// allocation) only here, off the hit path.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - load: The caller's load.
    ///   - refreshing: The hit to return after requesting its reload, or `nil` for a miss.
    /// - Returns: The hit, or what the load gave.
    /// - Throws: As ``lookup(for:load:)``.
    @inlinable
    @inline(never)
    func slowLookup(
        _ key: Key,
        load: @escaping @Sendable (Key) async throws -> Value?,
        refreshing: CacheLookup<Value>?
    ) async throws -> CacheLookup<Value> {
        if let refreshing {
            self.requestRefresh(key, load: load)
            return refreshing
        }
        return try await self.loadingLookup(key, load: load)
    }

    /// The miss path: join or lead the key's single-flight load.
    @usableFromInline
    func loadingLookup(
        _ key: Key,
        load: @escaping @Sendable (Key) async throws -> Value?
    ) async throws -> CacheLookup<Value> {
        self.metrics.misses.increment()
        while true {
            switch try await self.joinOrLead(key, load: load) {
            case .value(let lookup):
                if lookup.freshness.isStale { self.metrics.staleServed.increment() }
                return lookup
            case .failure(let error):
                throw error
            case .retry:
                continue
            case .lead:
                preconditionFailure("a finished load never hands out leadership")
            }
        }
    }

    /// Returns what the cache holds for a key without loading, including a stale value.
    ///
    /// - Parameter key: The key.
    /// - Returns: The cached value with its freshness (stale once expired), or `nil` when nothing is cached.
    @inlinable
    public func cachedLookup(for key: Key) -> CacheLookup<Value>? {
        let now = self.time.now()
        return self.shell.withLock { shell in
            shell.core.entries[key].map { entry in
                let age = Duration.nanoseconds(now - entry.loadedAt)
                return CacheLookup(
                    value: entry.value,
                    freshness: now < entry.expiresAt ? .fresh(age: age) : .stale(age: age)
                )
            }
        }
    }

    /// The number of entries, including negative and expired ones.
    public var count: Int { self.shell.withLock { $0.core.count } }

    /// How many callers wait for the key's running load; tests use it to line callers up.
    func waitingCallers(for key: Key) -> Int { self.shell.withLock { $0.core.waiterCount(key) } }

    // MARK: Writing and invalidating

    /// Stores a value obtained elsewhere (for example from a watch) as freshly loaded.
    ///
    /// A load of the key that is running now still answers its callers, but does not overwrite this value.
    ///
    /// - Parameters:
    ///   - value: The value, or `nil` to record that the key is absent.
    ///   - key: The key.
    public func insert(_ value: Value?, for key: Key) {
        let now = self.time.now()
        let jitter = Double.random(in: 0..<1)
        self.shell.withLock { $0.core.insert(key, value: value, now: now, jitter: jitter) }
        self.persistenceChanged()
    }

    /// Forgets a key, including the value it would serve stale; the next read loads it.
    ///
    /// Use it when a value turned out to be wrong (a connection to the discovered address failed). A load of
    /// the key that is running now still answers its callers but is not stored.
    ///
    /// - Parameter key: The key.
    public func invalidate(_ key: Key) {
        let removed = self.shell.withLock { $0.core.invalidate(key) }
        if removed { self.persistenceChanged() }
    }

    /// Forgets every key that matches a predicate.
    ///
    /// - Parameter predicate: Returns `true` for keys to forget. It runs outside the cache's lock, over the keys
    ///   cached (or being loaded) when the call began.
    /// - Returns: How many entries were removed.
    @discardableResult
    public func invalidate(where predicate: (Key) -> Bool) -> Int {
        let keys = self.shell.withLock { $0.core.keys }.filter(predicate)
        guard !keys.isEmpty else { return 0 }
        let removed = self.shell.withLock { shell in
            keys.reduce(0) { count, key in shell.core.invalidate(key) ? count + 1 : count }
        }
        if removed > 0 { self.persistenceChanged() }
        return removed
    }

    /// Forgets everything.
    public func removeAll() {
        self.invalidate { _ in true }
    }

    // MARK: Refresh-ahead

    /// Performs refresh-ahead reloads until graceful shutdown or until the calling task is cancelled, then writes
    /// what persistence has not written yet.
    ///
    /// Run it in the application's `ServiceGroup` (or a task group) for as long as the cache is used. Without it
    /// ``TTLCacheConfiguration/refreshAhead`` has no effect and entries are reloaded when they expire. It waits for
    /// refresh requests even when refresh-ahead is off, so it returns only on graceful shutdown or cancellation;
    /// reloads in progress are then cancelled and, with persistence, pending changes are written before it returns
    /// (as ``flush()`` does, even though its task is cancelled). The cache stays usable afterwards (reads load on
    /// expiry again, changes are persisted as before). Only one `run()` may be active at a time: a second
    /// concurrent call is a programming error and stops the process.
    public func run() async {
        let (stream, continuation) = AsyncStream.makeStream(of: RefreshRequest.self, bufferingPolicy: .unbounded)
        self.shell.withLock { shell in
            precondition(shell.refreshRequests == nil, "TTLCache.run() is already running")
            shell.refreshRequests = continuation
            shell.core.acceptsRefreshes = true
        }
        defer {
            self.shell.withLock { shell in
                shell.refreshRequests = nil
                shell.core.acceptsRefreshes = false
            }
            continuation.finish()
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await request in stream {
                    group.addTask { await self.refresh(request) }
                }
            }
        }
        await self.writer?.flush(cancellable: false)
    }

    @usableFromInline
    func requestRefresh(_ key: Key, load: @escaping @Sendable (Key) async throws -> Value?) {
        let continuation = self.shell.withLock { $0.refreshRequests }
        continuation?.yield(RefreshRequest(key: key, load: load))
    }

    private func refresh(_ request: RefreshRequest) async {
        guard let flightID = self.shell.withLock({ $0.core.beginRefresh(request.key) }) else { return }
        _ = await self.performLoad(request.key, flightID: flightID, load: request.load)
    }

    // MARK: Single flight

    private func joinOrLead(
        _ key: Key,
        load: @escaping @Sendable (Key) async throws -> Value?
    ) async throws -> FlightOutcome<Value> {
        let waiterID = self.shell.withLock { shell in
            shell.nextWaiterID += 1
            return shell.nextWaiterID
        }
        let step = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<FlightOutcome<Value>, Never>) in
                let now = self.time.now()
                let decision = self.shell.withLock { shell -> CacheState<Key, Value>.ReadDecision? in
                    // Checked under the lock: a cancellation handler that already ran found nothing to resume.
                    if Task.isCancelled { return nil }
                    return shell.core.joinOrLead(key, now: now, waiterID: waiterID, continuation: continuation)
                }
                switch decision {
                case nil: continuation.resume(returning: .failure(CancellationError()))
                case .hit(let lookup, _)?: continuation.resume(returning: .value(lookup))
                case .lead(let flightID)?: continuation.resume(returning: .lead(flightID: flightID))
                case .joined?: break
                }
            }
        } onCancel: {
            let waiter = self.shell.withLock { $0.core.leave(key, waiterID: waiterID) }
            waiter?.resume(returning: .failure(CancellationError()))
        }
        guard case .lead(let flightID) = step else { return step }
        return await self.performLoad(key, flightID: flightID, load: load)
    }

    /// Runs a load as the leader of its flight, records the result and answers the waiters.
    private func performLoad(
        _ key: Key,
        flightID: UInt64,
        load: @Sendable (Key) async throws -> Value?
    ) async -> FlightOutcome<Value> {
        self.metrics.loads.increment()
        let result: Result<Value?, any Error>
        do {
            result = .success(try await load(key))
        } catch {
            result = .failure(error)
            self.metrics.loadFailures.increment()
        }
        let now = self.time.now()
        let cancelled = Task.isCancelled
        let jitter = Double.random(in: 0..<1)
        let completion = self.shell.withLock { shell in
            shell.core.complete(
                key,
                flightID: flightID,
                result: result,
                now: now,
                leaderCancelled: cancelled,
                jitter: jitter
            )
        }
        for waiter in completion.waiters { waiter.resume(returning: completion.outcome) }

        if completion.evicted > 0 { self.metrics.evictions.increment(by: Int64(completion.evicted)) }
        if case .failure(let error) = result {
            if completion.staleEpisodeStarted {
                self.logger.warning(
                    "Reload failed; serving the last good value until it succeeds or the value is too old",
                    metadata: ["beacon.cache.key": "\(key)", "beacon.error": "\(error)"]
                )
            } else {
                self.logger.debug(
                    "Load failed",
                    metadata: ["beacon.cache.key": "\(key)", "beacon.error": "\(error)"]
                )
            }
        } else if completion.recovered {
            self.logger.info("Reload succeeded again", metadata: ["beacon.cache.key": "\(key)"])
        }
        if completion.stored { self.persistenceChanged() }

        if cancelled, case .failure(let error) = result { return .failure(error) }
        if case .retry = completion.outcome, case .failure(let error) = result { return .failure(error) }
        return completion.outcome
    }
}
