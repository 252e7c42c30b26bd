// SPDX-License-Identifier: Apache-2.0

import BeaconCache
import BeaconTesting
import Foundation
import InMemoryLogging
import Logging
import MetricsTestKit
import ServiceLifecycleTestKit
import ServiceRunChecks
import Testing

/// When the persistence file is written: coalesced, off the caller's thread, flushed on demand and at shutdown.
///
/// Writes are counted with the `beacon.cache.persistence_writes` counter, never timed.
@Suite("TTLCache persistence writes", .timeLimit(.minutes(1)))
struct CachePersistenceWriteTests {
    typealias Directory = CachePersistenceTests.Directory

    static func makeCache(
        _ directory: Directory,
        path: String? = nil,
        interval: Duration = .seconds(3600),
        metrics: TestMetrics = TestMetrics(),
        logs: InMemoryLogHandler = InMemoryLogHandler()
    ) -> TTLCache<String, String> {
        TTLCache(
            name: "discovery",
            configuration: .init(ttl: .seconds(5), maxStale: .seconds(300), persistenceInterval: interval),
            logger: Logger(label: "test", factory: { _ in logs }),
            metricsFactory: metrics,
            persistence: CachePersistence(directory: path ?? directory.path, name: "discovery")
        )
    }

    static func writes(_ metrics: TestMetrics) -> Int64 {
        metrics.counterTotal(label: "beacon.cache.persistence_writes", dimensions: [("beacon.cache.name", "discovery")])
    }

    static func failures(_ metrics: TestMetrics) -> Int64 {
        metrics.counterTotal(
            label: "beacon.cache.persistence_failures",
            dimensions: [("beacon.cache.name", "discovery")]
        )
    }

    /// The keys and values in the file.
    static func persisted(_ directory: Directory) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/discovery.beacon-cache.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        var result: [String: String] = [:]
        for entry in entries {
            result[try #require(entry["key"] as? String)] = try #require(entry["value"] as? String)
        }
        return result
    }

    @Test("many changes within the interval make few writes, and flush() writes the last of them at once")
    func coalescing() async throws {
        let directory = Directory()
        let metrics = TestMetrics()
        let cache = Self.makeCache(directory, metrics: metrics)
        for index in 0..<500 {
            cache.insert("10.0.0.\(index % 250):5432", for: "/db/\(index)/endpoint")
        }
        _ = try await cache.value(for: "/loaded") { _ in "loaded" }
        cache.invalidate("/db/0/endpoint")
        await cache.flush()
        // The first change is written at once (with whatever the snapshot caught), the rest together by flush().
        #expect((1...2).contains(Self.writes(metrics)))
        let persisted = try Self.persisted(directory)
        #expect(persisted.count == 500)
        #expect(persisted["/db/0/endpoint"] == nil)
        #expect(persisted["/db/499/endpoint"] == "10.0.0.249:5432")
        #expect(persisted["/loaded"] == "loaded")

        // Nothing changed: flush() writes nothing.
        let before = Self.writes(metrics)
        await cache.flush()
        #expect(Self.writes(metrics) == before)

        // More changes inside the interval: one write, by the next flush().
        for index in 0..<200 { cache.insert("x", for: "/more/\(index)") }
        await cache.flush()
        #expect(Self.writes(metrics) == before + 1)
        #expect(try Self.persisted(directory).count == 700)
    }

    @Test("flush() waits until what was inserted so far is on disk, for a restarted cache to read")
    func explicitFlush() async throws {
        let directory = Directory()
        let metrics = TestMetrics()
        do {
            let cache = Self.makeCache(directory, metrics: metrics)
            await cache.flush()
            #expect(Self.writes(metrics) == 0)
            cache.insert("10.0.0.5:5432", for: "/db/main/endpoint")
            await cache.flush()
            #expect(try Self.persisted(directory) == ["/db/main/endpoint": "10.0.0.5:5432"])
            cache.insert("10.0.0.6:5432", for: "/db/replica/endpoint")
            await cache.flush()
        }
        let restarted = Self.makeCache(directory)
        let replica = try await restarted.lookup(for: "/db/replica/endpoint", load: CachePersistenceTests.failingLoad)
        #expect(replica.value == "10.0.0.6:5432")
        #expect(replica.freshness.isStale)
    }

    @Test(
        "run() writes pending changes when it ends, on graceful shutdown or cancellation",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func flushWhenRunEnds(stop: ServiceRunChecks.Stop) async throws {
        let directory = Directory()
        let metrics = TestMetrics()
        let cache = Self.makeCache(directory, metrics: metrics)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                cache.insert("10.0.0.5:5432", for: "/db/main/endpoint")
                await cache.flush()
                // Written only after an hour, unless run() writes it when it ends.
                cache.insert("10.0.0.6:5432", for: "/db/replica/endpoint")
                switch stop {
                case .gracefulShutdown: trigger.triggerGracefulShutdown()
                case .cancellation: group.cancelAll()
                }
                try await group.waitForAll()
            }
        }
        #expect(Self.writes(metrics) == 2)
        #expect(try Self.persisted(directory)["/db/replica/endpoint"] == "10.0.0.6:5432")
    }

    @Test("a file written by earlier versions still loads")
    func earlierFormat() async throws {
        let directory = Directory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let loadedAt = Int64(Date().timeIntervalSince1970 * 1e9) - 10_000_000_000
        // Byte for byte what the cache wrote before writes were coalesced: sorted keys, nanoseconds since 1970.
        let earlier =
            #"{"entries":[{"key":"\/db\/main\/endpoint","loadedAt":"# + "\(loadedAt)"
            + #","value":"10.0.0.5:5432"}],"format":"beacon-cache","name":"discovery","version":1}"#
        try earlier.write(toFile: "\(directory.path)/discovery.beacon-cache.json", atomically: true, encoding: .utf8)
        let cache = Self.makeCache(directory)
        #expect(cache.count == 1)
        let lookup = try await cache.lookup(for: "/db/main/endpoint", load: CachePersistenceTests.failingLoad)
        #expect(lookup.value == "10.0.0.5:5432")
        #expect(lookup.freshness.isStale)
        #expect(lookup.freshness.age >= .seconds(10))
    }

    @Test("a file that cannot be written is logged once per episode; reads and writes of the cache go on")
    func writeFailure() async throws {
        let directory = Directory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        // The persistence directory's parent is a regular file: every write fails (even for root).
        let blocker = "\(directory.path)/blocker"
        try "not a directory".write(toFile: blocker, atomically: true, encoding: .utf8)
        let logs = InMemoryLogHandler()
        let metrics = TestMetrics()
        let cache = Self.makeCache(directory, path: "\(blocker)/cache", interval: .zero, metrics: metrics, logs: logs)
        for index in 0..<3 {
            cache.insert("v\(index)", for: "k\(index)")
            await cache.flush()
        }
        #expect(try await cache.value(for: "loaded") { _ in "fresh" } == "fresh")
        await cache.flush()
        #expect(cache.cachedLookup(for: "k2")?.value == "v2")
        #expect(Self.failures(metrics) >= 4)
        #expect(Self.writes(metrics) == 0)
        let warnings = logs.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["beacon.file"] == "\(blocker)/cache/discovery.beacon-cache.json")

        // The directory becomes writable: the next change writes the whole cache, and the recovery is logged.
        try FileManager.default.removeItem(atPath: blocker)
        cache.insert("v3", for: "k3")
        await cache.flush()
        #expect(Self.writes(metrics) == 1)
        #expect(logs.entries.filter { $0.level == .info }.count == 1)
        #expect(logs.entries.filter { $0.level == .warning }.count == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(blocker)/cache/discovery.beacon-cache.json"))
        #expect(String(decoding: data, as: UTF8.self).contains("v2"))
    }
}
