// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconTesting
import Foundation
import Testing

/// Secrets stay off disk: excluded keys (and lists that hold them) never reach the persistence file.
@Suite("TTLCache persistence exclusions", .timeLimit(.minutes(1)))
struct CachePersistenceExclusionTests {
    typealias Directory = CachePersistenceTests.Directory

    /// A value planted under an excluded key; the files must never hold it.
    static let secret = "planted-secret-7f3a9c"

    /// Every file in the directory, as text.
    static func files(in directory: Directory) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/\(name)"))
            result[name] = String(decoding: data, as: UTF8.self)
        }
        return result
    }

    @Test("keys under an excluded prefix are not written; the others are")
    func excludedPrefixes() async throws {
        let directory = Directory()
        let cache = TTLCache<String, String>(
            name: "discovery",
            persistence: CachePersistence(
                directory: directory.path,
                name: "discovery",
                excludedPrefixes: ["/db/main/password", "/secrets/"]
            )
        )
        cache.insert(Self.secret, for: "/db/main/password")
        cache.insert(Self.secret, for: "/secrets/api-token")
        _ = try await cache.value(for: "/secrets/loaded") { _ in Self.secret }
        cache.insert("10.0.0.5:5432", for: "/db/main/endpoint")
        await cache.flush()
        let files = try Self.files(in: directory)
        #expect(files.count == 1)
        for (_, text) in files {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("password") && !text.contains("api-token"))
            #expect(text.contains("10.0.0.5:5432"))
        }
        // The secrets are still served from memory.
        #expect(cache.cachedLookup(for: "/db/main/password")?.value == Self.secret)
    }

    @Test("a predicate can exclude by value")
    func predicate() async throws {
        let directory = Directory()
        let cache = TTLCache<String, String>(
            name: "discovery",
            persistence: CachePersistence(directory: directory.path, name: "discovery") { _, value in
                value.hasPrefix("planted-secret")
            }
        )
        cache.insert(Self.secret, for: "/anywhere")
        cache.insert("public", for: "/elsewhere")
        await cache.flush()
        let text = try #require(try Self.files(in: directory).values.first)
        #expect(!text.contains(Self.secret))
        #expect(text.contains("public"))
    }

    @Test("CachingSource leaves excluded keys, and every list that holds one, out of both files")
    func cachingSource() async throws {
        let directory = Directory()
        let backend = StaticSource([
            "/db/main/endpoint": "10.0.0.5:5432",
            "/db/main/password": Self.secret,
            "/mc/a": "10.0.0.11:11211",
        ])
        let source = CachingSource(
            backend,
            persistenceDirectory: directory.path,
            excludedFromPersistence: ["/db/main/password"]
        )
        #expect(try await source.get("/db/main/password")?.string == Self.secret)
        #expect(try await source.get("/db/main/endpoint")?.string == "10.0.0.5:5432")
        #expect(try await source.list(prefix: "/db/").count == 2)
        #expect(try await source.list(prefix: "/").count == 3)
        #expect(try await source.list(prefix: "/mc/").count == 1)
        var iterator = source.watch(prefix: "/db/main/").makeAsyncIterator()
        #expect(try await iterator.next()?.count == 2)
        await source.flush()

        let files = try Self.files(in: directory)
        #expect(Set(files.keys) == ["discovery.keys.beacon-cache.json", "discovery.prefixes.beacon-cache.json"])
        for (name, text) in files {
            #expect(!text.contains(Self.secret), "\(name) holds the secret")
        }
        let keys = try #require(files["discovery.keys.beacon-cache.json"])
        #expect(keys.contains("10.0.0.5:5432"))
        // The lists that hold the password are left out whole; the one without it is kept.
        let prefixes = try #require(files["discovery.prefixes.beacon-cache.json"])
        #expect(prefixes.contains("10.0.0.11:11211"))
        #expect(!prefixes.contains("10.0.0.5:5432"))
    }

    @Test("an excluded entry in an existing file is not restored, and the file is written again without it")
    func excludedAfterTheFact() async throws {
        let directory = Directory()
        do {
            let cache = TTLCache<String, String>(
                name: "discovery",
                persistence: CachePersistence(directory: directory.path, name: "discovery")
            )
            cache.insert(Self.secret, for: "/db/main/password")
            cache.insert("10.0.0.5:5432", for: "/db/main/endpoint")
            await cache.flush()
            #expect(try Self.files(in: directory).values.first?.contains(Self.secret) == true)
        }
        let restarted = TTLCache<String, String>(
            name: "discovery",
            persistence: CachePersistence(
                directory: directory.path,
                name: "discovery",
                excludedPrefixes: ["/db/main/password"]
            )
        )
        #expect(restarted.cachedLookup(for: "/db/main/password") == nil)
        #expect(restarted.cachedLookup(for: "/db/main/endpoint")?.value == "10.0.0.5:5432")
        await restarted.flush()
        let text = try #require(try Self.files(in: directory).values.first)
        #expect(!text.contains(Self.secret))
        #expect(text.contains("10.0.0.5:5432"))
    }
}
