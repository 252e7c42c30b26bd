// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Logging
import Testing

/// The examples of Documentation/Memcached.md that need no server, as written there.
@Suite("Documentation/Memcached.md examples", .timeLimit(.minutes(1)))
struct MemcachedGuideTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("Building a pool")
    func buildingAPool() throws {
        let servers = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211,cache-3.internal:11211?weight=2")
        var configuration = MemcachedPool.Configuration()
        configuration.keyPrefix = "shop:"
        configuration.connectTimeout = .milliseconds(250)
        let pool = try MemcachedPool(servers: servers, configuration: configuration, logger: logger)
        defer { pool.close() }

        let server = try pool.server(forKey: "user:42")
        #expect(servers.contains(server))
        #expect(pool.servers[2].weight == 2)
    }

    @Test("Sharing keys with PHP: the table's configurations")
    func phpTable() {
        #expect(MemcachedPool.Configuration().distribution == .consistent)
        #expect(MemcachedPool.Configuration(libketamaCompatible: true).libketamaCompatible)
        #expect(MemcachedPool.Configuration(distribution: .modula).distribution == .modula)
    }

    @Test("Following discovery: DynamicMemcachedPool")
    func dynamic() async throws {
        let source = StaticSource([
            "/services/memcached/a": "10.0.0.1:11211",
            "/services/memcached/b": "10.0.0.2:11211",
        ])
        let dynamic = DynamicMemcachedPool(
            source: source,
            servers: .prefix("/services/memcached/"),
            configuration: DynamicMemcachedPool.Configuration(pool: MemcachedPool.Configuration()),
            logger: logger
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await dynamic.run() }
            await dynamic.waitForUpdate(after: 0)
            // The guide then calls dynamic.set, which needs a server: see the integration guide tests.
            #expect(dynamic.currentPool?.servers.count == 2)
            group.cancelAll()
        }
        #expect(dynamic.currentPool == nil)
    }

    @Test("Following discovery: a registered service as the server list")
    func dynamicService() async throws {
        let registry = StaticSource()
        let servers = DynamicMemcachedPool(source: registry, servers: .service("memcached"), logger: logger)
        let registration = try await registry.register(
            ServiceInstance(service: "memcached", id: "m1", endpoint: Endpoint(host: "10.0.0.1", port: 11211)),
            ttl: .seconds(10)
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await servers.run() }
            await servers.waitForUpdate(after: 0)
            #expect(servers.currentPool?.servers.map(\.description) == ["10.0.0.1:11211"])
            group.cancelAll()
        }
        await registration.cancel()
    }
}
