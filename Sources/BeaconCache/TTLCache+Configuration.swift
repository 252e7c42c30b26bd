// SPDX-License-Identifier: Apache-2.0

/// How a ``TTLCache`` keeps its entries.
///
/// The defaults suit discovery data: values follow changes within seconds, and an outage of the discovery
/// backend is bridged with the last good values for five minutes.
public struct TTLCacheConfiguration: Sendable {
    /// How long a loaded value is fresh. Default: 5 seconds.
    public var ttl: Duration
    /// The fraction of ``ttl`` by which each entry's lifetime is shortened at random, so that entries loaded
    /// together do not all expire together: a value lives between `ttl * (1 - jitter)` and `ttl`.
    /// From 0 (no jitter) to 1. Default: 0.1.
    public var jitter: Double
    /// When set, a read of a fresh entry older than this fraction of its lifetime starts a background reload
    /// while callers keep getting the current value, so a hot key never waits for a load. From 0 to 1, for
    /// example 0.8. Requires ``TTLCache/run()`` to be running. Default: `nil` (off).
    public var refreshAhead: Double?
    /// How old a value may be and still be served when a reload fails (stale-if-error), counted from when it was
    /// loaded. `.zero` turns stale-if-error off. Default: 5 minutes.
    public var maxStale: Duration
    /// After a failed reload served a stale value, how long further reads keep getting the stale value without
    /// trying the source again; protects a struggling backend from a reload per request. Default: 1 second.
    public var staleRetryInterval: Duration
    /// How long "the key is absent" is remembered; `nil` does not cache absence. Default: 1 second.
    public var negativeTTL: Duration?
    /// The most entries kept; past it the least recently used entry is evicted. `nil` (the default) is unbounded.
    public var maxEntries: Int?
    /// With persistence (``CachePersistence``), the shortest time between two writes of the file: changes within it
    /// are coalesced into one write at its end, done on the cache's writer thread. A change after a quiet period is
    /// written at once. Longer means fewer writes and more changes lost if the process dies without a graceful
    /// shutdown; ``TTLCache/flush()`` writes at once whatever the interval. `.zero` writes as soon as the previous
    /// write is done. Has no effect without persistence. Default: 1 second.
    public var persistenceInterval: Duration

    /// Creates a configuration; every parameter has the default documented on its property.
    ///
    /// - Parameters:
    ///   - ttl: How long a loaded value is fresh.
    ///   - jitter: The random fraction taken off each entry's lifetime.
    ///   - refreshAhead: The fraction of an entry's lifetime after which reads start a background reload.
    ///   - maxStale: How old a value may be and still be served when reloads fail.
    ///   - staleRetryInterval: How long a stale value is served before the source is tried again.
    ///   - negativeTTL: How long absence is remembered.
    ///   - maxEntries: The most entries kept.
    ///   - persistenceInterval: The shortest time between two writes of the persistence file.
    public init(
        ttl: Duration = .seconds(5),
        jitter: Double = 0.1,
        refreshAhead: Double? = nil,
        maxStale: Duration = .seconds(300),
        staleRetryInterval: Duration = .seconds(1),
        negativeTTL: Duration? = .seconds(1),
        maxEntries: Int? = nil,
        persistenceInterval: Duration = .seconds(1)
    ) {
        self.ttl = ttl
        self.jitter = jitter
        self.refreshAhead = refreshAhead
        self.maxStale = maxStale
        self.staleRetryInterval = staleRetryInterval
        self.negativeTTL = negativeTTL
        self.maxEntries = maxEntries
        self.persistenceInterval = persistenceInterval
    }

    /// Checks the values and clamps fractions into range.
    func validated() -> TTLCacheConfiguration {
        precondition(self.ttl > .zero, "TTLCacheConfiguration.ttl must be positive")
        precondition(self.maxEntries.map { $0 > 0 } ?? true, "TTLCacheConfiguration.maxEntries must be positive")
        precondition(
            self.persistenceInterval >= .zero,
            "TTLCacheConfiguration.persistenceInterval must not be negative"
        )
        var result = self
        result.jitter = min(max(self.jitter, 0), 1)
        result.refreshAhead = self.refreshAhead.map { min(max($0, 0), 1) }
        return result
    }
}
