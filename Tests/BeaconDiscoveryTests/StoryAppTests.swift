// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconExpression
import BeaconMemcached
import BeaconPostgres
import Foundation
import Testing

/// Stand-ins for the example app's classes (Examples/hummingbird-app is a package of its own): they hold what the
/// app's do.
private final class ItemCache: Sendable {
    let pool: DynamicMemcachedPool
    init(_ pool: DynamicMemcachedPool) { self.pool = pool }
}

private final class ItemStore: Sendable {
    let pool: PostgresConnectionPool
    init(_ pool: PostgresConnectionPool) { self.pool = pool }
}

private final class ItemRepository: Sendable {
    let cache: ItemCache
    let store: ItemStore
    init(cache: ItemCache, store: ItemStore) {
        self.cache = cache
        self.store = store
    }
}

@Suite("The example app's services.yaml")
struct StoryAppTests {
    /// The repository's root, from this file's path.
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/BeaconDiscoveryTests/StoryAppTests.swift
        return parts.joined(separator: "/")
    }()

    static let servicesFile = root + "/Examples/hummingbird-app/services.yaml"

    @Test("it builds the cache over the memcached prefix and the database pool on the Patroni leader")
    func appYAML() async throws {
        let source = StaticSource([
            "/memcached/servers/memcached-1":
                #"{"host":"127.0.0.1","id":"memcached-1","port":24211,"service":"memcached"}"#,
            "/memcached/servers/memcached-2": "127.0.0.1:24212",
        ])
        var builder = ContainerBuilder()
        builder.registerDiscoveryService(named: "DynamicConfigurationService", source: source)
        builder.registerFactory("ItemCache") { arguments in
            ItemCache(try arguments.service(0, as: DynamicMemcachedPool.self))
        }
        builder.registerFactory("ItemStore") { arguments in
            ItemStore(try arguments.service(0, as: PostgresConnectionPool.self))
        }
        builder.registerFactory("ItemRepository") { arguments in
            ItemRepository(
                cache: try arguments.service(0, as: ItemCache.self),
                store: try arguments.service(1, as: ItemStore.self)
            )
        }
        try builder.loadYAML(file: Self.servicesFile)
        // As beacon-app's --database does in scripts/demo.
        builder.setParameter("database_location", .string("patroni:/service/beacon"))
        let container = try builder.build()
        try await withRunningContainer(container) {
            let items = try await container.get("app.items", as: ItemRepository.self)
            #expect(
                items.cache.pool.currentPool?.servers.map(\.description) == ["127.0.0.1:24211", "127.0.0.1:24212"]
            )
            #expect(items.store.pool.factory.location == .patroniLeader(scope: "beacon"))
            #expect(try await container.get("app.cache", as: ItemCache.self) === items.cache)
        }
    }

    @Test("Documentation/Story.md quotes the file as it is")
    func storyQuotesTheFile() throws {
        let guide = try String(contentsOfFile: Self.root + "/Documentation/Story.md", encoding: .utf8)
        let yaml = try String(contentsOfFile: Self.servicesFile, encoding: .utf8)
        #expect(guide.contains("```yaml\n" + yaml + "```\n"))
    }
}
