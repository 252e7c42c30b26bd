// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconTesting
import Foundation
import Testing

@Suite("CachingSource", .timeLimit(.minutes(1)))
struct CachingSourceTests {
    static func make(
        _ backend: StaticSource,
        clock: ManualClock = ManualClock(),
        persistenceDirectory: String? = nil
    ) -> (CachingSource<FaultInjectingSource<StaticSource>>, FaultInjectingSource<StaticSource>) {
        let faulty = FaultInjectingSource(backend)
        let configuration = TTLCacheConfiguration(ttl: .seconds(5), jitter: 0, negativeTTL: .seconds(1))
        let source = CachingSource(
            base: faulty,
            keys: TTLCache(name: "keys", configuration: configuration, clock: clock),
            prefixes: TTLCache(name: "prefixes", configuration: configuration, clock: clock)
        )
        return (source, faulty)
    }

    @Test("get and list are answered from the cache until the TTL runs out")
    func cachedReads() async throws {
        let backend = StaticSource(["/db/main/endpoint": "10.0.0.5:5432", "/mc/a": "10.0.0.11:11211"])
        let clock = ManualClock()
        let (source, faulty) = Self.make(backend, clock: clock)

        #expect(try await source.get("/db/main/endpoint")?.string == "10.0.0.5:5432")
        #expect(try await source.list(prefix: "/mc/").count == 1)
        backend.set("/db/main/endpoint", to: "10.0.0.6:5432")
        backend.set("/mc/b", to: "10.0.0.12:11211")
        #expect(try await source.get("/db/main/endpoint")?.string == "10.0.0.5:5432")
        #expect(try await source.list(prefix: "/mc/").count == 1)
        #expect(faulty.counts.get == 1 && faulty.counts.list == 1)

        clock.advance(by: .seconds(5))
        #expect(try await source.get("/db/main/endpoint")?.string == "10.0.0.6:5432")
        #expect(try await source.list(prefix: "/mc/").count == 2)
        #expect(try await source.get("/absent") == nil)
        #expect(try await source.get("/absent") == nil)
        #expect(faulty.counts.get == 3)
    }

    @Test("invalidate(key:) and invalidate(prefix:) send the next reads to the backend")
    func invalidation() async throws {
        let backend = StaticSource(["/db/main/endpoint": "10.0.0.5:5432", "/db/main/user": "app"])
        let (source, faulty) = Self.make(backend)
        _ = try await source.get("/db/main/endpoint")
        _ = try await source.list(prefix: "/db/")
        backend.set("/db/main/endpoint", to: "10.0.0.7:5432")

        source.invalidate(key: "/db/main/endpoint")
        #expect(try await source.get("/db/main/endpoint")?.string == "10.0.0.7:5432")
        #expect(try await source.list(prefix: "/db/").first?.string == "10.0.0.7:5432")
        #expect(faulty.counts.get == 2 && faulty.counts.list == 2)

        _ = try await source.get("/db/main/user")
        source.invalidate(prefix: "/db/main/")
        _ = try await source.get("/db/main/user")
        _ = try await source.list(prefix: "/db/")
        #expect(faulty.counts.get == 4 && faulty.counts.list == 3)
    }

    @Test("an outage of the backend is bridged with stale values")
    func staleIfError() async throws {
        let backend = StaticSource(["/db/main/endpoint": "10.0.0.5:5432"])
        let clock = ManualClock()
        let (source, faulty) = Self.make(backend, clock: clock)
        _ = try await source.get("/db/main/endpoint")
        faulty.failAll()
        clock.advance(by: .seconds(30))
        let lookup = try await source.lookup("/db/main/endpoint")
        #expect(lookup.value?.string == "10.0.0.5:5432")
        #expect(lookup.freshness == .stale(age: .seconds(30)))
    }

    @Test("a watch passes snapshots through and keeps the watched prefix fresh")
    func watchRefreshesCache() async throws {
        let backend = StaticSource(["/mc/a": "10.0.0.11:11211", "/mc/b": "10.0.0.12:11211"])
        let (source, faulty) = Self.make(backend)
        var iterator = source.watch(prefix: "/mc/").makeAsyncIterator()
        #expect(try await iterator.next()?.count == 2)

        backend.delete("/mc/b")
        backend.set("/mc/c", to: "10.0.0.13:11211")
        var snapshot = try #require(try await iterator.next())
        while snapshot.count != 2 || snapshot[key: "/mc/c"] == nil {
            snapshot = try #require(try await iterator.next())
        }
        #expect(try await source.list(prefix: "/mc/").map(\.key) == ["/mc/a", "/mc/c"])
        #expect(try await source.get("/mc/c")?.string == "10.0.0.13:11211")
        #expect(try await source.get("/mc/b") == nil)
        #expect(faulty.counts.get == 0 && faulty.counts.list == 0)
    }

    @Test("with a persistence directory, a restarted process reads through a backend outage")
    func persistence() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-caching-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend = FaultInjectingSource(StaticSource(["/db/main/endpoint": "10.0.0.5:5432"]))
        do {
            let source = CachingSource(backend, persistenceDirectory: directory)
            _ = try await source.get("/db/main/endpoint")
            _ = try await source.list(prefix: "/db/")
            await source.flush()
        }
        backend.failAll()
        let restarted = CachingSource(backend, persistenceDirectory: directory)
        #expect(try await restarted.get("/db/main/endpoint")?.string == "10.0.0.5:5432")
        #expect(try await restarted.list(prefix: "/db/").count == 1)
        #expect(try await restarted.lookup("/db/main/endpoint").freshness.isStale)
    }
}
