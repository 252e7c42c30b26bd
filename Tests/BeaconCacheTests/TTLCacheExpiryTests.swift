// SPDX-License-Identifier: Apache-2.0

import BeaconTesting
import InMemoryLogging
import Logging
import MetricsTestKit
import Testing

@testable import BeaconCache

@Suite("TTLCache expiry, staleness and eviction", .timeLimit(.minutes(1)))
struct TTLCacheExpiryTests {
    /// A load that returns "<key>#<n>" for the n-th load, and fails while `failing` is set.
    final class Source: Sendable {
        let loads = Counter()
        let failing = Failing()

        final class Failing: Sendable {
            private let flag = Gate.Flag()
            var isOn: Bool { self.flag.value }
            func set(_ on: Bool) { self.flag.set(on) }
        }

        var load: @Sendable (String) async throws -> String? {
            { [self] key in
                let attempt = self.loads.increment()
                if self.failing.isOn { throw LoadFailure(attempt: attempt) }
                return "\(key)#\(attempt)"
            }
        }
    }

    @Test("a fresh entry is served without loading; an expired one is reloaded")
    func expiry() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(10), jitter: 0), clock: clock)
        let source = Source()
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")
        clock.advance(by: .seconds(9))
        let hit = try await cache.lookup(for: "a", load: source.load)
        #expect(hit.value == "a#1")
        #expect(hit.freshness == .fresh(age: .seconds(9)))
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "a", load: source.load) == "a#2")
        #expect(source.loads.count == 2)
    }

    @Test("jitter shortens lifetimes within its bounds, and spreads them")
    func jitterBounds() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(100), jitter: 0.2), clock: clock)
        let source = Source()
        let keys = (0..<200).map { "k\($0)" }
        for key in keys { _ = try await cache.value(for: key, load: source.load) }

        clock.advance(by: .seconds(80) - .milliseconds(1))
        #expect(keys.allSatisfy { cache.cachedLookup(for: $0)?.freshness.isStale == false })
        clock.advance(by: .seconds(10))
        let expiredAt90 = keys.filter { cache.cachedLookup(for: $0)?.freshness.isStale == true }.count
        #expect(expiredAt90 > 0 && expiredAt90 < keys.count, "lifetimes are spread over 80 to 100 seconds")
        clock.advance(by: .seconds(10) + .milliseconds(1))
        #expect(keys.allSatisfy { cache.cachedLookup(for: $0)?.freshness.isStale == true })
    }

    @Test("refresh-ahead reloads a hot entry in the background while callers keep the current value")
    func refreshAhead() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(
            configuration: .init(ttl: .seconds(10), jitter: 0, refreshAhead: 0.8),
            clock: clock
        )
        let source = Source()
        let runner = Task { await cache.run() }
        defer { runner.cancel() }
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")

        clock.advance(by: .seconds(7))
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")
        #expect(source.loads.count == 1, "no refresh before 80% of the lifetime")

        clock.advance(by: .seconds(1))
        // Reads past the threshold still get the current value; one of them queues a reload (as soon as run()
        // has started).
        let reloaded = try await eventually {
            let value = try await cache.value(for: "a", load: source.load)
            #expect(value == "a#1" || value == "a#2")
            return cache.cachedLookup(for: "a")?.value == "a#2"
        }
        #expect(reloaded)
        #expect(cache.cachedLookup(for: "a")?.freshness == .fresh(age: .zero))
        clock.advance(by: .seconds(5))
        #expect(try await cache.value(for: "a", load: source.load) == "a#2")
        #expect(source.loads.count == 2)
    }

    @Test("without run(), refresh-ahead does nothing and entries reload on expiry")
    func refreshAheadNeedsRun() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(
            configuration: .init(ttl: .seconds(10), jitter: 0, refreshAhead: 0.5),
            clock: clock
        )
        let source = Source()
        _ = try await cache.value(for: "a", load: source.load)
        clock.advance(by: .seconds(6))
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")
        #expect(source.loads.count == 1)
    }

    @Test("a failed reload serves the last good value while it is younger than maxStale, then throws")
    func staleIfError() async throws {
        let clock = ManualClock()
        let logs = InMemoryLogHandler()
        let metrics = TestMetrics()
        let cache = TTLCache<String, String>(
            name: "discovery",
            configuration: .init(ttl: .seconds(10), jitter: 0, maxStale: .seconds(60), staleRetryInterval: .seconds(2)),
            clock: clock,
            logger: Logger(label: "test", factory: { _ in logs }),
            metricsFactory: metrics
        )
        let source = Source()
        _ = try await cache.value(for: "a", load: source.load)
        source.failing.set(true)

        clock.advance(by: .seconds(20))
        let stale = try await cache.lookup(for: "a", load: source.load)
        #expect(stale.value == "a#1")
        #expect(stale.freshness == .stale(age: .seconds(20)))
        #expect(source.loads.count == 2)

        // Within the retry interval the stale value is served without another load.
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")
        #expect(source.loads.count == 2)
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "a", load: source.load) == "a#1")
        #expect(source.loads.count == 3)

        // One episode, one warning, however many failures.
        #expect(logs.entries.filter { $0.level == .warning }.count == 1)
        let dimensions = [("beacon.cache.name", "discovery")]
        #expect(metrics.counterTotal(label: "beacon.cache.stale_served", dimensions: dimensions) == 3)
        #expect(metrics.counterTotal(label: "beacon.cache.load_failures", dimensions: dimensions) == 2)

        clock.advance(by: .seconds(38))  // age 60 s: too old to serve
        await #expect(throws: LoadFailure.self) { try await cache.value(for: "a", load: source.load) }

        source.failing.set(false)
        #expect(try await cache.value(for: "a", load: source.load) == "a#5")
        #expect(logs.entries.contains { $0.level == .info && "\($0.message)".contains("succeeded again") })
    }

    @Test("maxStale of zero turns stale-if-error off")
    func staleOff() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(1), maxStale: .zero), clock: clock)
        let source = Source()
        _ = try await cache.value(for: "a", load: source.load)
        source.failing.set(true)
        clock.advance(by: .seconds(2))
        await #expect(throws: LoadFailure.self) { try await cache.value(for: "a", load: source.load) }
    }

    @Test("absence is cached for the negative TTL")
    func negativeCaching() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(
            configuration: .init(ttl: .seconds(10), negativeTTL: .seconds(2)),
            clock: clock
        )
        let loads = Counter()
        let load: @Sendable (String) async throws -> String? = { _ in
            loads.increment()
            return nil
        }
        #expect(try await cache.value(for: "missing", load: load) == nil)
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "missing", load: load) == nil)
        #expect(loads.count == 1)
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "missing", load: load) == nil)
        #expect(loads.count == 2)

        let uncached = TTLCache<String, String>(configuration: .init(negativeTTL: nil), clock: clock)
        _ = try await uncached.value(for: "missing", load: load)
        _ = try await uncached.value(for: "missing", load: load)
        #expect(loads.count == 4)
        #expect(uncached.count == 0)
    }

    @Test("invalidation forgets values, including the stale fallback")
    func invalidation() async throws {
        let clock = ManualClock()
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(10)), clock: clock)
        let source = Source()
        for key in ["/a/1", "/a/2", "/b/1"] { _ = try await cache.value(for: key, load: source.load) }

        cache.invalidate("/a/1")
        #expect(try await cache.value(for: "/a/1", load: source.load) == "/a/1#4")
        #expect(cache.invalidate { $0.hasPrefix("/a/") } == 2)
        #expect(cache.count == 1)
        cache.removeAll()
        #expect(cache.count == 0)

        _ = try await cache.value(for: "k", load: source.load)
        cache.invalidate("k")
        source.failing.set(true)
        await #expect(throws: LoadFailure.self) { try await cache.value(for: "k", load: source.load) }
    }

    @Test("a bounded cache evicts the least recently used entry")
    func lruEviction() async throws {
        let clock = ManualClock()
        let metrics = TestMetrics()
        let cache = TTLCache<String, String>(
            name: "lru",
            configuration: .init(ttl: .seconds(60), maxEntries: 3),
            clock: clock,
            metricsFactory: metrics
        )
        let source = Source()
        for key in ["a", "b", "c"] { _ = try await cache.value(for: key, load: source.load) }
        _ = try await cache.value(for: "a", load: source.load)  // a is now the most recently used
        _ = try await cache.value(for: "d", load: source.load)  // evicts b
        #expect(cache.count == 3)
        #expect(cache.cachedLookup(for: "b") == nil)
        #expect(cache.cachedLookup(for: "a") != nil)
        #expect(metrics.counterTotal(label: "beacon.cache.evictions") == 1)
        #expect(metrics.counterTotal(label: "beacon.cache.hits") == 1)
        #expect(metrics.counterTotal(label: "beacon.cache.misses") == 4)
        #expect(metrics.counterTotal(label: "beacon.cache.loads") == 4)
    }

    @Test("an inserted value replaces a load that was running")
    func insertWins() async throws {
        let cache = TTLCache<String, String>(clock: ManualClock())
        let gate = Gate()
        let loads = Counter()
        let reader = Task {
            try await cache.value(for: "k") { _ in
                loads.increment()
                await gate.wait()
                return "from the load"
            }
        }
        #expect(try await eventually { loads.count == 1 })
        cache.insert("from a watch", for: "k")
        gate.open()
        #expect(try await reader.value == "from the load")
        #expect(cache.cachedLookup(for: "k")?.value == "from a watch")
    }
}
