// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconEtcd
import BeaconExpression
import BeaconMemcached
import BeaconTesting
import Foundation
import Logging
import Testing

/// The story's session handler: it holds the memcached client it was given.
private final class SessionHandler: Sendable {
    let memcached: DynamicMemcachedPool

    init(_ memcached: DynamicMemcachedPool) {
        self.memcached = memcached
    }
}

/// A service built from a raw discovered value.
private final class DatabaseAddress: Sendable {
    let endpoint: String

    init(_ endpoint: String) {
        self.endpoint = endpoint
    }
}

@Suite("The story's YAML over etcd", .requiresServers)
struct DiscoveryServiceTests {
    static func etcd() throws -> (client: EtcdClient, url: String) {
        let endpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let client = try EtcdClient(configuration: .init(endpoints: [endpoint]))
        return (client, "etcd://" + endpoint.replacingOccurrences(of: "http://", with: ""))
    }

    static func memcachedServers() throws -> [String] {
        try TestServers.value("BEACON_MEMCACHED_ENDPOINTS").split(separator: ",").map(String.init)
    }

    /// The story's YAML plus a service built from a raw value, all under `prefix`.
    static func container(url: String, prefix: String, cacheDirectory: String) throws -> Container {
        var builder = ContainerBuilder()
        builder.setParameter("discovery_service_endpoint", .string(url))
        builder.setParameter("kernel.cache_dir", .string(cacheDirectory))
        builder.setParameter("prefix", .string(prefix))
        builder.registerDiscoveryService(named: "DynamicConfigurationService")
        builder.registerFactory("MemcachedSessionHandler") { arguments in
            SessionHandler(try arguments.service(0, as: DynamicMemcachedPool.self))
        }
        builder.registerFactory("DatabaseAddress") { arguments in DatabaseAddress(try arguments.string(0)) }
        try builder.loadYAML(
            """
            services:
                session.handler.memcache:
                    class: MemcachedSessionHandler
                    arguments: ["@=service('myapp.dynamic.configuration').getMemcached(parameter('prefix') ~ 'memcached/')"]
                myapp.dynamic.configuration:
                    class: DynamicConfigurationService
                    arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]
                app.database.address:
                    class: DatabaseAddress
                    arguments: ["@=service('myapp.dynamic.configuration').endpoint(parameter('prefix') ~ 'db/endpoint')"]
            """
        )
        return try builder.build()
    }

    /// Writes keys into the backend a story runs over, and removes them afterwards.
    struct Writer: Sendable {
        /// Writes a key.
        var put: @Sendable (_ key: String, _ value: [UInt8]) async throws -> Void
        /// Deletes everything the test wrote below its prefix.
        var deleteAll: @Sendable (_ prefix: String) async throws -> Void
    }

    @Test("the story's YAML follows a memcached server joining and a database moving, through etcd")
    func story() async throws {
        let (etcd, url) = try Self.etcd()
        defer { etcd.close() }
        let writer = Writer(
            put: { key, value in _ = try await etcd.put(key, bytes: value) },
            deleteAll: { prefix in _ = try await etcd.delete(prefix: prefix) }
        )
        try await Self.story(url: url, prefix: TestServers.uniquePrefix("discovery-service"), writer: writer)
    }

    /// The story's YAML over a discovery URL, with its keys written under `prefix` by `writer`: a memcached server
    /// joins the pool without a rebuild, and a service built from a raw value is rebuilt when (only when) it changes.
    static func story(url: String, prefix: String, writer: Writer) async throws {
        let servers = try Self.memcachedServers()
        try await writer.put("\(prefix)memcached/a", Array(servers[0].utf8))
        let instance = ServiceInstance(service: "memcached", id: "b", endpoint: try Endpoint(parsing: servers[1]))
        try await writer.put("\(prefix)memcached/b", instance.encodedValue())
        try await writer.put("\(prefix)db/endpoint", Array("127.0.0.1:5432".utf8))
        let directory = NSTemporaryDirectory() + "beacon-discovery-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let container = try Self.container(url: url, prefix: prefix, cacheDirectory: directory)

        let pool = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await container.run() }
            defer { group.cancelAll() }

            let handler = try await container.get("session.handler.memcache", as: SessionHandler.self)
            #expect(handler.memcached.currentPool?.servers.map(\.description) == Array(servers[0...1]))
            let key = "beacon-tests:discovery:\(UUID().uuidString)"
            try await handler.memcached.set(key, value: Array("v1".utf8))

            // A third server registers: the same pool takes it in, nothing is rebuilt.
            let generation = handler.memcached.generation
            try await writer.put("\(prefix)memcached/c", Array(servers[2].utf8))
            #expect(try await eventually { handler.memcached.generation > generation })
            #expect(handler.memcached.currentPool?.servers.count == 3)
            #expect(try await container.get("session.handler.memcache", as: SessionHandler.self) === handler)

            // A raw value: rebuilt when it changes, not when a neighbour under its prefix does.
            let address = try await container.get("app.database.address", as: DatabaseAddress.self)
            #expect(address.endpoint == "127.0.0.1:5432")
            // Counted per container: the etcd and ZooKeeper stories run in parallel.
            let built = container.constructionCount(of: "app.database.address")
            try await writer.put("\(prefix)db/endpoint-other", Array("10.9.9.9:5432".utf8))
            try await writer.put("\(prefix)unrelated", Array("x".utf8))
            try await writer.put("\(prefix)db/endpoint", Array("127.0.0.1:5433".utf8))
            #expect(
                try await eventually {
                    try await container.get("app.database.address", as: DatabaseAddress.self).endpoint
                        == "127.0.0.1:5433"
                }
            )
            #expect(container.constructionCount(of: "app.database.address") == built + 1)
            #expect(container.constructionCount(of: "myapp.dynamic.configuration") == 1)
            return handler.memcached
        }
        // The container stopped: the pools the discovery service made are closed.
        #expect(pool.currentPool == nil)
        try await writer.deleteAll(prefix)
    }
}
