// SPDX-License-Identifier: Apache-2.0

import Beacon

/// One cached value and its deadlines, all in nanoseconds of the cache's time source.
///
/// `@usableFromInline` (like the other pieces the hit path touches) so that a hit is specialized for the
/// caller's key and value types instead of running as unspecialized generic code.
@usableFromInline
struct CacheEntry<Value: Sendable>: Sendable {
    /// The value; `nil` records that the source said the key is absent.
    @usableFromInline var value: Value?
    @usableFromInline var loadedAt: Int64
    @usableFromInline var expiresAt: Int64
    /// When a read starts a background reload; `.max` when refresh-ahead is off.
    @usableFromInline var refreshAt: Int64
    /// The least-recently-used tick of the last read or write.
    @usableFromInline var lastUsed: UInt64
    /// Set while reloads fail and this value is served stale: the start of the failure episode.
    var failingSince: Int64?
    /// While stale after a failure, reads serve the value without trying the source before this time.
    @usableFromInline var retryAfter: Int64 = .min
    @usableFromInline var isRefreshing = false
}

/// What a waiting caller receives when the load it joined finishes.
enum FlightOutcome<Value: Sendable>: Sendable {
    case value(CacheLookup<Value>)
    case failure(any Error)
    /// The leader was cancelled before it finished: try again (one waiter becomes the new leader).
    case retry
    /// Only for the caller that starts a load: it leads the flight with this id.
    case lead(flightID: UInt64)
}

/// A load in progress for one key, and the callers waiting for it.
struct Flight<Value: Sendable> {
    var id: UInt64
    var waiters: [UInt64: CheckedContinuation<FlightOutcome<Value>, Never>] = [:]
    /// Set when the key is invalidated during the load: the result is handed to the waiters but not stored.
    var isDiscarded = false
    var isRefresh = false
}

/// The pure core of ``TTLCache``: every decision, taking the time as an argument, with no locks or effects.
///
/// The shell calls a method under its lock, then performs the returned effects (resuming continuations,
/// logging, counting) after releasing it.
@usableFromInline
struct CacheState<Key: Hashable & Sendable, Value: Sendable> {
    let configuration: TTLCacheConfiguration
    private let ttl: Int64
    @usableFromInline let maxStale: Int64
    /// Whether reads record use (only bounded caches need it, so an unbounded cache's hit is a pure read).
    @usableFromInline let tracksUse: Bool
    private let staleRetryInterval: Int64
    private let negativeTTL: Int64?

    @usableFromInline var entries: [Key: CacheEntry<Value>] = [:]
    private var flights: [Key: Flight<Value>] = [:]
    private var nextID: UInt64 = 0
    @usableFromInline var tick: UInt64 = 0
    /// Whether ``TTLCache/run()`` is running, so that refresh-ahead has someone to do the work.
    @usableFromInline var acceptsRefreshes = false

    init(configuration: TTLCacheConfiguration) {
        self.configuration = configuration
        self.ttl = configuration.ttl.saturatedNanoseconds
        self.maxStale = configuration.maxStale.saturatedNanoseconds
        self.staleRetryInterval = configuration.staleRetryInterval.saturatedNanoseconds
        self.negativeTTL = configuration.negativeTTL?.saturatedNanoseconds
        self.tracksUse = configuration.maxEntries != nil
    }

    var count: Int { self.entries.count }

    /// How many callers wait for the key's running load (for tests).
    func waiterCount(_ key: Key) -> Int { self.flights[key]?.waiters.count ?? 0 }

    // MARK: Reads

    /// What a read should do.
    @usableFromInline
    enum ReadDecision {
        /// Serve this; when `refresh` is set, also queue a background reload of the key.
        case hit(CacheLookup<Value>, refresh: Bool)
        /// Another caller is loading the key: the continuation was registered under this waiter id.
        case joined(waiterID: UInt64)
        /// Load the key; the flight has this id.
        case lead(flightID: UInt64)
    }

    /// The fast path: a fresh entry (or a stale one inside its retry pause), without registering anything.
    @inlinable
    mutating func fastRead(_ key: Key, now: Int64) -> ReadDecision? {
        // One hash of the key: the index serves the read and, for bounded caches, the use update.
        guard let index = self.entries.index(forKey: key) else { return nil }
        // The entry is reached in place (an `inout` access): a read through the subscript's getter would copy the
        // whole entry, through its value witness, for each field.
        return Self.read(
            &self.entries.values[index],
            now: now,
            tick: &self.tick,
            tracksUse: self.tracksUse,
            acceptsRefreshes: self.acceptsRefreshes,
            maxStale: self.maxStale
        )
    }

    /// The fast path's decision on one entry; see ``fastRead(_:now:)``.
    @inlinable
    static func read(
        _ entry: inout CacheEntry<Value>,
        now: Int64,
        tick: inout UInt64,
        tracksUse: Bool,
        acceptsRefreshes: Bool,
        maxStale: Int64
    ) -> ReadDecision? {
        if now < entry.expiresAt {
            let refresh = now >= entry.refreshAt && !entry.isRefreshing && acceptsRefreshes
            if refresh || tracksUse {
                tick &+= 1
                entry.lastUsed = tick
                if refresh { entry.isRefreshing = true }
            }
            let freshness = Freshness.fresh(age: .nanoseconds(now - entry.loadedAt))
            return .hit(CacheLookup(value: entry.value, freshness: freshness), refresh: refresh)
        }
        if now < entry.retryAfter && Self.isServableStale(loadedAt: entry.loadedAt, now: now, maxStale: maxStale) {
            let freshness = Freshness.stale(age: .nanoseconds(now - entry.loadedAt))
            return .hit(CacheLookup(value: entry.value, freshness: freshness), refresh: false)
        }
        return nil
    }

    /// The slow path: join the key's load, or start one.
    mutating func joinOrLead(
        _ key: Key,
        now: Int64,
        waiterID: UInt64,
        continuation: CheckedContinuation<FlightOutcome<Value>, Never>
    ) -> ReadDecision {
        if let decision = self.fastRead(key, now: now) { return decision }
        if self.flights[key] != nil {
            self.flights[key]?.waiters[waiterID] = continuation
            return .joined(waiterID: waiterID)
        }
        self.nextID += 1
        self.flights[key] = Flight(id: self.nextID)
        return .lead(flightID: self.nextID)
    }

    /// Removes a waiter whose task was cancelled; returns its continuation if it was still waiting.
    mutating func leave(_ key: Key, waiterID: UInt64) -> CheckedContinuation<FlightOutcome<Value>, Never>? {
        self.flights[key]?.waiters.removeValue(forKey: waiterID)
    }

    /// Starts a background reload of a key for refresh-ahead, unless a load is already running.
    mutating func beginRefresh(_ key: Key) -> UInt64? {
        guard self.flights[key] == nil else {
            self.entries[key]?.isRefreshing = false
            return nil
        }
        self.nextID += 1
        self.flights[key] = Flight(id: self.nextID, isRefresh: true)
        return self.nextID
    }

    @inlinable
    func isServableStale(_ entry: CacheEntry<Value>, now: Int64) -> Bool {
        Self.isServableStale(loadedAt: entry.loadedAt, now: now, maxStale: self.maxStale)
    }

    /// Whether a value loaded at `loadedAt` is still young enough to be served stale.
    @inlinable
    static func isServableStale(loadedAt: Int64, now: Int64, maxStale: Int64) -> Bool {
        maxStale > 0 && now - loadedAt < maxStale
    }

    // MARK: Load results

    /// What finishing a load means for everyone involved.
    struct Completion {
        var waiters: [CheckedContinuation<FlightOutcome<Value>, Never>] = []
        /// What the waiters receive.
        var outcome: FlightOutcome<Value>
        /// A failure episode started (log once, count stale served).
        var staleEpisodeStarted = false
        /// A failure episode ended with a successful load.
        var recovered = false
        /// The value stored changed the cache's contents (persist them).
        var stored = false
        var evicted = 0
    }

    /// Records a load's result and says who gets what.
    ///
    /// - Parameters:
    ///   - key: The key that was loaded.
    ///   - flightID: The flight the load belonged to; a mismatch means the flight was replaced.
    ///   - result: The load's value (`nil` for absent) or error.
    ///   - now: The time the load finished.
    ///   - leaderCancelled: The leading task was cancelled; a failure then makes waiters retry instead of
    ///     receiving an error they did not cause.
    ///   - jitter: A random number in `0..<1` for this entry's lifetime.
    /// - Returns: The waiters to resume, what they get, and the effects to perform outside the lock.
    mutating func complete(
        _ key: Key,
        flightID: UInt64,
        result: Result<Value?, any Error>,
        now: Int64,
        leaderCancelled: Bool,
        jitter: Double
    ) -> Completion {
        var flight: Flight<Value>?
        if self.flights[key]?.id == flightID {
            flight = self.flights.removeValue(forKey: key)
        }
        let waiters = flight.map { Array($0.waiters.values) } ?? []
        let discarded = flight?.isDiscarded ?? true
        let isRefresh = flight?.isRefresh ?? false
        if isRefresh { self.entries[key]?.isRefreshing = false }

        switch result {
        case .success(let value):
            let lookup = CacheLookup(value: value, freshness: .fresh(age: .zero))
            var completion = Completion(waiters: waiters, outcome: .value(lookup))
            guard !discarded else { return completion }
            completion.recovered = self.entries[key]?.failingSince != nil
            let lifetime: Int64?
            if value == nil {
                lifetime = self.negativeTTL
            } else {
                lifetime = self.ttl - Int64(Double(self.ttl) * self.configuration.jitter * jitter)
            }
            guard let lifetime, lifetime > 0 else {
                self.entries.removeValue(forKey: key)
                completion.stored = true
                return completion
            }
            let refreshAt =
                self.configuration.refreshAhead.map { now + Int64(Double(lifetime) * $0) } ?? .max
            self.tick &+= 1
            self.entries[key] = CacheEntry(
                value: value,
                loadedAt: now,
                expiresAt: now + lifetime,
                refreshAt: refreshAt,
                lastUsed: self.tick
            )
            completion.stored = true
            completion.evicted = self.evictIfNeeded()
            return completion

        case .failure(let error):
            if isRefresh {
                // The entry is still fresh: callers keep it until it expires, then load normally.
                return Completion(waiters: waiters, outcome: .failure(error))
            }
            if leaderCancelled {
                return Completion(waiters: waiters, outcome: .retry)
            }
            if !discarded, var entry = self.entries[key], self.isServableStale(entry, now: now) {
                var completion = Completion(
                    waiters: waiters,
                    outcome: .value(
                        CacheLookup(value: entry.value, freshness: .stale(age: .nanoseconds(now - entry.loadedAt)))
                    )
                )
                if entry.failingSince == nil {
                    entry.failingSince = now
                    completion.staleEpisodeStarted = true
                }
                entry.retryAfter = now + self.staleRetryInterval
                entry.expiresAt = min(entry.expiresAt, now)
                self.entries[key] = entry
                return completion
            }
            return Completion(waiters: waiters, outcome: .failure(error))
        }
    }

    // MARK: Writes and invalidation

    /// Stores a value that arrived from elsewhere (a watch), as if it had just been loaded.
    mutating func insert(_ key: Key, value: Value?, now: Int64, jitter: Double) {
        self.nextID += 1
        let id = self.nextID
        let previous = self.flights[key]
        self.flights[key] = Flight(id: id)
        _ = self.complete(key, flightID: id, result: .success(value), now: now, leaderCancelled: false, jitter: jitter)
        if let previous {
            // A load was running: its waiters still get its result, but it must not overwrite this newer value.
            var discarded = previous
            discarded.isDiscarded = true
            self.flights[key] = discarded
        }
    }

    /// Removes an entry (and the stale fallback with it); a load in progress will not store its result.
    mutating func invalidate(_ key: Key) -> Bool {
        self.flights[key]?.isDiscarded = true
        return self.entries.removeValue(forKey: key) != nil
    }

    /// Every key that has an entry or a load in progress.
    var keys: Set<Key> { Set(self.entries.keys).union(self.flights.keys) }

    /// Restores persisted entries as already expired, so they are served only as stale values.
    mutating func restore(_ key: Key, value: Value?, loadedAt: Int64) {
        guard self.entries[key] == nil else { return }
        self.tick &+= 1
        self.entries[key] = CacheEntry(
            value: value,
            loadedAt: loadedAt,
            expiresAt: .min,
            refreshAt: .max,
            lastUsed: self.tick
        )
        _ = self.evictIfNeeded()
    }

    /// Evicts least recently used entries beyond `maxEntries`; returns how many.
    ///
    /// A linear scan: eviction happens only when a new key arrives in a full cache, and keeping reads to a
    /// single dictionary write (the use tick) matters more than making this path sub-linear.
    private mutating func evictIfNeeded() -> Int {
        guard let limit = self.configuration.maxEntries else { return 0 }
        var evicted = 0
        while self.entries.count > limit {
            guard let oldest = self.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key else { break }
            self.entries.removeValue(forKey: oldest)
            evicted += 1
        }
        return evicted
    }
}
