// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconTesting
import ServiceRunChecks
import Testing

/// `TTLCache.run()` and `CachingSource.run()` as services: they run until graceful shutdown or cancellation.
@Suite("TTLCache and CachingSource as services", .timeLimit(.minutes(1)))
struct CacheLifecycleTests {
    @Test(
        "TTLCache.run() returns on graceful shutdown and on cancellation, not before",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func ttlCache(stop: ServiceRunChecks.Stop) async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(
            configuration: TTLCacheConfiguration(ttl: .seconds(10), jitter: 0, refreshAhead: 0.5),
            clock: clock
        )
        try await ServiceRunChecks.expectRunsUntil(stop, cache) {
            // Refresh-ahead reloads happen while it runs (once it has started).
            #expect(try await cache.value(for: "k") { _ in "v1" } == "v1")
            clock.advance(by: .seconds(6))
            let reloaded = try await eventually {
                _ = try await cache.value(for: "k") { _ in "v2" }
                return cache.cachedLookup(for: "k")?.value == "v2"
            }
            #expect(reloaded)
        }
        // The cache stays usable after run() ended, and run() may start again.
        #expect(try await cache.value(for: "other") { _ in "x" } == "x")
        try await ServiceRunChecks.expectRunsUntil(stop, cache)
    }

    @Test(
        "CachingSource.run() returns on graceful shutdown and on cancellation, not before",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func cachingSource(stop: ServiceRunChecks.Stop) async throws {
        let source = CachingSource(StaticSource(["/db/main/endpoint": "10.0.0.5:5432"]))
        try await ServiceRunChecks.expectRunsUntil(stop, source) {
            let entry = try await source.get("/db/main/endpoint")
            #expect(entry?.string == "10.0.0.5:5432")
        }
    }
}
