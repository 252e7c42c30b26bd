// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconExpression
import BeaconMemcached
import BeaconPostgres
import Foundation
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

@testable import BeaconEtcd

/// The story's app wiring: a container whose YAML builds the discovery service (which makes its own etcd client),
/// a session handler on its memcached pool and a repository on its PostgreSQL pool; plus the app's own etcd client,
/// which keeps its registration alive. One ServiceGroup runs them; a signal stops them.
@Suite("The story's parts in one ServiceGroup", .requiresServers, .timeLimit(.minutes(2)))
struct StoryServiceGroupTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    final class SessionHandler: Sendable {
        let memcached: DynamicMemcachedPool
        init(_ memcached: DynamicMemcachedPool) { self.memcached = memcached }
    }

    final class Repository: Sendable {
        let database: PostgresConnectionPool
        init(_ database: PostgresConnectionPool) { self.database = database }
    }

    func container(etcdURL: String, prefix: String) throws -> Container {
        var builder = ContainerBuilder()
        builder.setParameter("discovery_service_endpoint", .string(etcdURL))
        builder.setParameter("kernel.cache_dir", .string(""))
        builder.setParameter("prefix", .string(prefix))
        builder.registerDiscoveryService(named: "DynamicConfigurationService", logger: logger)
        builder.registerFactory("MemcachedSessionHandler") { arguments in
            SessionHandler(try arguments.service(0, as: DynamicMemcachedPool.self))
        }
        builder.registerFactory("Repository") { arguments in
            Repository(try arguments.service(0, as: PostgresConnectionPool.self))
        }
        try builder.loadYAML(
            """
            services:
                session.handler.memcache:
                    class: MemcachedSessionHandler
                    arguments: ["@=service('myapp.dynamic.configuration').getMemcached(parameter('prefix') ~ 'memcached/')"]
                app.repository:
                    class: Repository
                    arguments: ["@=service('myapp.dynamic.configuration').getDatabase(parameter('prefix') ~ 'db/main')"]
                myapp.dynamic.configuration:
                    class: DynamicConfigurationService
                    arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]
            """
        )
        return try builder.build()
    }

    @Test("stopped by a signal, it leaves no lease, no registration, no PostgreSQL or memcached connection")
    func nothingLeftBehind() async throws {
        let prefix = TestServers.uniquePrefix("story-group")
        let etcdEndpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
        // Private memcached servers, so that other tests' connections do not change the counts.
        let servers = [try MemcachedPrivateServer(port: 21294), try MemcachedPrivateServer(port: 21295)]
        let applicationName = "beacon-story-\(UUID().uuidString.prefix(8))"
        var configuration = EtcdClient.Configuration(endpoints: [etcdEndpoint])
        configuration.servicePrefix = "\(prefix)services"
        let app = try EtcdClient(configuration: configuration, logger: logger)
        let observer = try EtcdClient(configuration: configuration, logger: logger)
        defer { observer.close() }
        let probe = try await PostgresProbe()
        defer { probe.close() }

        for (index, server) in servers.enumerated() {
            try await observer.put("\(prefix)memcached/\(index)", server.endpoint.description)
        }
        let database = try PostgresServers.value(cluster: "B")
            .replacingOccurrences(of: "\"beacon-tests\"", with: "\"\(applicationName)\"")
        try await observer.put("\(prefix)db/main", database)
        let memcachedBefore = try await servers.asyncMap {
            try await MemcachedStats.settledConnections(at: $0.endpoint)
        }

        let container = try self.container(
            etcdURL: "etcd://" + etcdEndpoint.dropFirst("http://".count),
            prefix: prefix
        )
        let instance = ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "127.0.0.1", port: 8080))
        _ = try await app.register(instance, ttl: TestServers.scaled(.seconds(10)))
        let lease = try #require(try await observer.leaseID(ofKey: instance.key(prefix: "\(prefix)services")))
        let footprint = ServerFootprint(
            observer: observer,
            service: "web",
            lease: lease,
            probe: probe,
            applicationName: applicationName,
            memcached: servers.map(\.endpoint),
            memcachedBefore: memcachedBefore
        )
        let group = ServiceGroup(services: [container, app], gracefulShutdownSignals: [.sigusr1], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let handler = try await container.get("session.handler.memcache", as: SessionHandler.self)
            for index in 0..<20 {
                try await handler.memcached.set("story-\(index)", value: Array("\(index)".utf8))
                #expect(try await handler.memcached.get("story-\(index)") == Array("\(index)".utf8))
            }
            let repository = try await container.get("app.repository", as: Repository.self)
            let answer = try await repository.database.withConnection { connection in
                try await connection.query("SELECT 41 + 1")[0].decode(Int.self, column: 0)
            }
            #expect(answer == 42)
            try await footprint.expectPresent(instance: instance)
            // SIGUSR1: the Lifecycle guide's test, which may run at the same time, stops its group with SIGUSR2.
            kill(getpid(), SIGUSR1)
            try await tasks.waitForAll()
        }
        // The registration was withdrawn by the client's run() as it ended.
        try await footprint.expectNothingLeft()
        try await observer.delete(prefix: prefix)
    }
}
