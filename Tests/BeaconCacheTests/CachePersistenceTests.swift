// SPDX-License-Identifier: Apache-2.0

import BeaconCache
import BeaconTesting
import Foundation
import InMemoryLogging
import Logging
import Testing

@Suite("TTLCache persistence", .timeLimit(.minutes(1)))
struct CachePersistenceTests {
    final class Directory {
        let path: String

        init() {
            self.path = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-cache-\(UUID())").path
        }

        deinit { try? FileManager.default.removeItem(atPath: self.path) }
    }

    static func makeCache(
        _ directory: Directory,
        logs: InMemoryLogHandler = InMemoryLogHandler()
    ) -> TTLCache<String, String> {
        TTLCache(
            name: "discovery",
            configuration: .init(ttl: .seconds(5), maxStale: .seconds(300)),
            logger: Logger(label: "test", factory: { _ in logs }),
            persistence: CachePersistence(directory: directory.path, name: "discovery")
        )
    }

    static let failingLoad: @Sendable (String) async throws -> String? = { _ in throw LoadFailure(attempt: 0) }

    @Test("a new cache whose source is down starts from the persisted values, served as stale")
    func restoreAsStale() async throws {
        let directory = Directory()
        do {
            let cache = Self.makeCache(directory)
            _ = try await cache.value(for: "/db/main/endpoint") { _ in "10.0.0.5:5432" }
            _ = try await cache.value(for: "/db/replica/endpoint") { _ in "10.0.0.6:5432" }
            _ = try await cache.value(for: "/absent") { _ in nil }
            _ = try await cache.value(for: "/db/other/endpoint") { _ in "10.0.0.7:5432" }
            await cache.flush()
        }
        let restarted = Self.makeCache(directory)
        let lookup = try await restarted.lookup(for: "/db/main/endpoint", load: Self.failingLoad)
        #expect(lookup.value == "10.0.0.5:5432")
        #expect(lookup.freshness.isStale)
        #expect(try await restarted.value(for: "/db/replica/endpoint", load: Self.failingLoad) == "10.0.0.6:5432")
        await #expect(throws: LoadFailure.self) { try await restarted.value(for: "/absent", load: Self.failingLoad) }

        // With the source up, a restored value is replaced at once: it was never fresh.
        #expect(try await restarted.value(for: "/db/other/endpoint") { _ in "10.0.0.9:5432" } == "10.0.0.9:5432")
    }

    @Test("the file is written atomically, readable by the owner only, with a format version")
    func fileMode() async throws {
        let directory = Directory()
        let cache = Self.makeCache(directory)
        _ = try await cache.value(for: "k") { _ in "v" }
        await cache.flush()
        let path = "\(directory.path)/discovery.beacon-cache.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((directoryAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        )
        #expect(json["format"] as? String == "beacon-cache")
        #expect(json["version"] as? Int == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains(".tmp-")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("invalidated values are removed from the file too")
    func invalidationPersists() async throws {
        let directory = Directory()
        do {
            let cache = Self.makeCache(directory)
            _ = try await cache.value(for: "wrong") { _ in "10.0.0.5:5432" }
            await cache.flush()
            cache.invalidate("wrong")
            await cache.flush()
        }
        let restarted = Self.makeCache(directory)
        await #expect(throws: LoadFailure.self) { try await restarted.value(for: "wrong", load: Self.failingLoad) }
    }

    static let damaged: [(name: String, content: String)] = [
        ("corrupt", "{\"format\": \"beacon-cache\", \"version\": 1, \"na"),
        ("not JSON", "\u{0}\u{1}binary"),
        ("foreign format", #"{"format":"something-else","version":1,"name":"discovery","entries":[]}"#),
        ("future version", #"{"format":"beacon-cache","version":2,"name":"discovery","entries":[]}"#),
        (
            "other cache",
            #"{"format":"beacon-cache","version":1,"name":"other","entries":[{"key":"k","value":"v","loadedAt":0}]}"#
        ),
        ("wrong types", #"{"format":"beacon-cache","version":1,"name":"discovery","entries":[{"key":1,"value":2}]}"#),
    ]

    @Test("a damaged or foreign file is ignored with a warning", arguments: Self.damaged)
    func damagedFile(_ example: (name: String, content: String)) async throws {
        let directory = Directory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        try example.content.write(
            toFile: "\(directory.path)/discovery.beacon-cache.json",
            atomically: true,
            encoding: .utf8
        )
        let logs = InMemoryLogHandler()
        let cache = Self.makeCache(directory, logs: logs)
        #expect(cache.count == 0)
        #expect(logs.entries.filter { $0.level == .warning }.count == 1)
        #expect(try await cache.value(for: "k") { _ in "fresh" } == "fresh")
    }

    @Test("a value older than maxStale is not served after a restart")
    func tooOldAfterRestart() async throws {
        let directory = Directory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let old =
            #"{"format":"beacon-cache","version":1,"name":"discovery","entries":[{"key":"k","value":"v","loadedAt":0}]}"#
        try old.write(toFile: "\(directory.path)/discovery.beacon-cache.json", atomically: true, encoding: .utf8)
        let cache = Self.makeCache(directory)
        #expect(cache.count == 1)
        await #expect(throws: LoadFailure.self) { try await cache.value(for: "k", load: Self.failingLoad) }
    }
}
