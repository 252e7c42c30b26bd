// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import Foundation
import Testing

/// The examples of Documentation/Cache.md, run as written.
@Suite("Cache guide", .timeLimit(.minutes(1)))
struct CacheGuideTests {
    @Test("in front of a discovery source")
    func cachingSource() async throws {
        let backend = StaticSource(["/db/main/endpoint": "10.0.0.5:5432"])
        let source = CachingSource(backend, configuration: TTLCacheConfiguration(ttl: .seconds(5)))

        let endpoint = try await source.require("/db/main/endpoint").endpoint()
        let again = try await source.require("/db/main/endpoint").endpoint()
        #expect(endpoint == again)

        backend.set("/db/main/endpoint", to: "10.0.0.6:5432")
        source.invalidate(key: "/db/main/endpoint")
        source.invalidate(prefix: "/db/")
        #expect(try await source.require("/db/main/endpoint").endpoint().host == "10.0.0.6")
    }

    @Test("the knobs, and knowing how fresh a value is")
    func knobs() async throws {
        let backend = StaticSource(["/services/memcached/a": "10.0.0.11:11211"])
        let cache = TTLCache<String, Endpoint>(
            name: "memcached",
            configuration: TTLCacheConfiguration(
                ttl: .seconds(5),
                jitter: 0.2,
                maxStale: .seconds(600),
                negativeTTL: .seconds(2)
            )
        )
        let server = try await cache.value(for: "/services/memcached/a") { key in
            try await backend.get(key)?.endpoint()
        }
        #expect(server?.port == 11211)

        let lookup = try await cache.lookup(for: "/services/memcached/a") { try await backend.get($0)?.endpoint() }
        #expect(!lookup.freshness.isStale)
    }

    @Test("refresh-ahead runs in run()")
    func refreshAheadRun() async throws {
        let hot = TTLCache<String, String>(configuration: TTLCacheConfiguration(ttl: .seconds(5), refreshAhead: 0.8))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await hot.run() }
            let value = try await hot.value(for: "k") { _ in "v" }
            #expect(value == "v")
            group.cancelAll()
        }
    }

    @Test("persistence directory")
    func persistence() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-guide-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend = StaticSource(["/db/main/endpoint": "10.0.0.5:5432"])
        let source = CachingSource(
            backend,
            persistenceDirectory: directory,
            excludedFromPersistence: ["/db/main/password", "/secrets/"]
        )
        _ = try await source.get("/db/main/endpoint")
        await source.flush()  // or let run() end: it writes what is pending
        #expect(FileManager.default.fileExists(atPath: "\(directory)/discovery.keys.beacon-cache.json"))
    }

    @Test("keeping secrets off disk with a predicate")
    func persistencePredicate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-guide-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let persistence = CachePersistence<String, String>(directory: directory, name: "settings") { key, value in
            key.hasSuffix("/password") || value.hasPrefix("postgres://")
        }
        let cache = TTLCache(name: "settings", persistence: persistence)
        cache.insert("postgres://app:hunter2@10.0.0.5/app", for: "/db/main/uri")
        cache.insert("hunter2", for: "/db/main/password")
        cache.insert("10.0.0.5:5432", for: "/db/main/endpoint")
        await cache.flush()
        let text = try String(contentsOfFile: "\(directory)/settings.beacon-cache.json", encoding: .utf8)
        #expect(!text.contains("hunter2"))
        #expect(text.contains("10.0.0.5:5432"))
    }
}
