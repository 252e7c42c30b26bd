// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics

/// The counters of one cache, created once (creating a metric asks the factory, which is slow).
///
/// Labels follow OpenTelemetry style; the only dimension is the cache's name, which is bounded (chosen by the
/// application), never a key.
@usableFromInline
struct CacheMetrics: Sendable {
    @usableFromInline let hits: Counter
    let misses: Counter
    let loads: Counter
    let loadFailures: Counter
    @usableFromInline let staleServed: Counter
    let evictions: Counter

    init(name: String, factory: (any MetricsFactory)?) {
        func counter(_ label: String) -> Counter { Self.counter(label, name: name, factory: factory) }
        self.hits = counter("beacon.cache.hits")
        self.misses = counter("beacon.cache.misses")
        self.loads = counter("beacon.cache.loads")
        self.loadFailures = counter("beacon.cache.load_failures")
        self.staleServed = counter("beacon.cache.stale_served")
        self.evictions = counter("beacon.cache.evictions")
    }

    /// Creates one of a cache's counters.
    ///
    /// - Parameters:
    ///   - label: The counter's label.
    ///   - name: The cache's name, its only dimension.
    ///   - factory: The factory; `nil` uses the global metrics system.
    /// - Returns: The counter.
    static func counter(_ label: String, name: String, factory: (any MetricsFactory)?) -> Counter {
        let dimensions = [("beacon.cache.name", name)]
        if let factory {
            return Counter(label: label, dimensions: dimensions, factory: factory)
        }
        return Counter(label: label, dimensions: dimensions)
    }
}
