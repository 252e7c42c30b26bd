// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconConfd
import BeaconConsul
import BeaconContainer
import BeaconDiscovery
import BeaconExpression
import BeaconMemcached
import BeaconPostgres
import BeaconTesting
import Foundation
import InMemoryLogging
import Logging
import Testing

/// The consumers that follow a discovery source, with Consul (the fake agent of `scripts/servers`) as the source: the
/// dynamic memcached pool following a registered service, the PostgreSQL factory following a KV key, the container's
/// discovery service made from a `consul://` URL, and beacon-confd's resources naming a service.
@Suite("Consumers over Consul", .requiresServers, .timeLimit(.minutes(2)))
struct ConsulConsumerTests {
    static func uniqueService(_ what: String) -> String { "beacon-\(what)-\(UUID().uuidString.prefix(8))" }

    /// Runs `body` while a client keeps its registrations' checks passing, then deregisters them.
    static func registering<R: Sendable>(
        _ registrar: ConsulClient,
        _ body: () async throws -> R
    ) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await registrar.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    @Test("a DynamicMemcachedPool follows a service in Consul's catalog as instances register and deregister")
    func memcachedFollowsService() async throws {
        let endpoints = try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
        try #require(endpoints.count >= 3)
        let registrar = try ConsulClientTests.client()
        let consul = try ConsulClientTests.client()
        defer { consul.close() }
        let service = Self.uniqueService("memcached")
        func instance(_ index: Int) -> ServiceInstance {
            ServiceInstance(service: service, id: "\(service)-m\(index)", endpoint: endpoints[index])
        }
        // Nothing under a KV prefix: the instances are only in the catalog.
        #expect(try await consul.list(prefix: ServiceInstance.servicePrefix(service)).isEmpty)
        let dynamic = DynamicMemcachedPool(
            source: consul,
            servers: .service(service),
            configuration: DynamicMemcachedPool.Configuration(retryDelay: .milliseconds(100))
        )
        let key = "beacon-tests:consul:\(UUID().uuidString)"
        try await Self.registering(registrar) {
            let first = try await registrar.register(instance(0), ttl: TestServers.scaled(.seconds(10)))
            _ = try await registrar.register(instance(1), ttl: TestServers.scaled(.seconds(10)))
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await dynamic.run() }
                defer { group.cancelAll() }
                #expect(try await eventually { dynamic.currentPool?.servers == Array(endpoints[0...1]) })
                try await dynamic.set(key, value: [1])
                #expect(try await dynamic.get(key) == [1])

                // A third instance registers: a new pool over three servers. (Waiting for the servers rather than
                // for the next generation: on a loaded machine a TTL check may also flap and make a generation.)
                let beforeJoin = dynamic.generation
                _ = try await registrar.register(instance(2), ttl: TestServers.scaled(.seconds(10)))
                #expect(try await eventually { dynamic.currentPool?.servers == Array(endpoints[0...2]) })
                #expect(dynamic.generation > beforeJoin)

                // The first deregisters: a new pool without it, which serves reads and writes.
                let beforeLeave = dynamic.generation
                await first.cancel()
                #expect(try await eventually { dynamic.currentPool?.servers == Array(endpoints[1...2]) })
                #expect(dynamic.generation > beforeLeave)
                try await dynamic.set(key, value: [2])
                #expect(try await dynamic.get(key) == [2])
                _ = try await dynamic.delete(key)
            }
        }
        #expect(dynamic.currentPool == nil)
        // run() ended: the registrations were withdrawn.
        #expect(try await consul.instances(of: service).isEmpty)
    }

    @Test("a PostgreSQL pool follows a Consul KV key: a changed value is used by the next connection")
    func postgresFollowsKey() async throws {
        // Cluster B only: the failover suite takes cluster A's database away while it runs.
        let first = try PostgresServers.value(cluster: "B").replacingOccurrences(of: "beacon-tests", with: "consul-1")
        let second = try PostgresServers.value(cluster: "B").replacingOccurrences(of: "beacon-tests", with: "consul-2")
        let consul = try ConsulClientTests.client()
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-postgres")
        let key = prefix + "db/main"
        try await consul.put(key, first)
        let (logger, logs) = PostgresServers.recordingLogger()
        let factory = PostgresConnectionFactory(
            source: CachingSource(consul, configuration: .init(ttl: .seconds(600))),
            location: .key(key),
            logger: logger
        )
        let pool = PostgresConnectionPool(factory: factory, logger: logger)
        func applicationName() async throws -> String {
            try await pool.withConnection { connection in
                try await connection.query("SELECT current_setting('application_name')")[0].decode(
                    String.self,
                    column: 0
                )
            }
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            #expect(try await applicationName() == "consul-1")
            // The key changes in Consul: the blocking query sees it, and the next connection uses the new value, long
            // before the cache's ten minutes.
            try await consul.put(key, second)
            #expect(try await eventually { try await applicationName() == "consul-2" })
            #expect(logs.entries.contains { "\($0.message)" == "postgres location changed" })
            #expect(PostgresServers.failedAttempts(logs) == 0)
        }
        try await consul.delete(prefix: prefix)
    }

    @Test(
        "a discovery service made from a consul:// URL reads KV keys and services, with the token of its configuration"
    )
    func discoveryServiceURL() async throws {
        let endpoint = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let token = try TestServers.value("BEACON_CONSUL_ACL_TOKEN")
        let agent = try #require(URL(string: endpoint))
        let url = "consul://\(agent.host ?? ""):\(agent.port ?? 0)"
        let registrar = try ConsulClientTests.client(agents: [endpoint], token: token)
        let writer = try ConsulClientTests.client(agents: [endpoint], token: token)
        defer { writer.close() }
        let prefix = TestServers.uniquePrefix("consul-discovery")
        try await writer.put(prefix + "db/main/endpoint", "10.0.0.5:5432")
        let service = Self.uniqueService("web")

        // Without the token, the ACL's default deny refuses the read.
        let anonymous = try DiscoveryService(url: url)
        let denied = await #expect(throws: ConsulError.self) { try await anonymous.get(prefix + "db/main/endpoint") }
        #expect(denied?.code == .permissionDenied)
        await anonymous.close()

        var configuration = DiscoveryService.Configuration()
        configuration.consul.token = ConsulClient.Token(token)
        configuration.consul.watchWait = .seconds(5)
        var builder = ContainerBuilder()
        builder.setParameter("discovery_service_endpoint", .string(url))
        builder.registerDiscoveryService(named: "DiscoveryService", configuration: configuration)
        builder.registerFactory("Upstream") { arguments in
            try arguments.list(0).map { "\($0)" }.joined(separator: ",")
        }
        try builder.loadYAML(
            """
            services:
                discovery:
                    class: DiscoveryService
                    arguments: ['%discovery_service_endpoint%']
                upstream:
                    class: Upstream
                    arguments: ["@=service('discovery').endpoints('service:\(service)')"]
            """
        )
        let container = try builder.build()
        try await Self.registering(registrar) {
            _ = try await registrar.register(
                ServiceInstance(
                    service: service,
                    id: "\(service)-w1",
                    endpoint: Endpoint(host: "10.0.1.1", port: 8080)
                ),
                ttl: TestServers.scaled(.seconds(10))
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await container.run() }
                defer { group.cancelAll() }
                let discovery = try await container.get("discovery", as: DiscoveryService.self)
                #expect(try await discovery.endpoint(prefix + "db/main/endpoint").port == 5432)
                #expect(try await discovery.instances(of: service).map(\.id) == ["\(service)-w1"])
                #expect(try await container.get("upstream", as: String.self) == "10.0.1.1:8080")

                // Another instance registers: the service that read the list is rebuilt with it.
                _ = try await registrar.register(
                    ServiceInstance(
                        service: service,
                        id: "\(service)-w2",
                        endpoint: Endpoint(host: "10.0.1.2", port: 8080)
                    ),
                    ttl: TestServers.scaled(.seconds(10))
                )
                #expect(
                    try await eventually {
                        try await container.get("upstream", as: String.self) == "10.0.1.1:8080,10.0.1.2:8080"
                    }
                )
            }
        }
        try await writer.delete(prefix: prefix)
    }

    @Test("getMemcached('service:...') of a consul:// discovery service follows the service's memcached servers")
    func discoveryServiceMemcached() async throws {
        let endpoints = try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
        try #require(endpoints.count >= 2)
        let agent = try #require(URL(string: try TestServers.value("BEACON_CONSUL_ENDPOINT")))
        let registrar = try ConsulClientTests.client()
        let service = Self.uniqueService("memcached")
        var configuration = DiscoveryService.Configuration()
        configuration.consul.watchWait = .seconds(5)
        let discovery = try DiscoveryService(
            url: "consul://\(agent.host ?? ""):\(agent.port ?? 0)",
            configuration: configuration
        )
        try await Self.registering(registrar) {
            _ = try await registrar.register(
                ServiceInstance(service: service, id: "\(service)-a", endpoint: endpoints[0]),
                ttl: TestServers.scaled(.seconds(10))
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await discovery.run() }
                defer { group.cancelAll() }
                let pool = try await discovery.memcached(.service(service))
                #expect(pool.currentPool?.servers == [endpoints[0]])
                let key = "beacon-tests:consul-discovery:\(UUID().uuidString)"
                try await pool.set(key, value: [7])
                #expect(try await pool.get(key) == [7])
                _ = try await pool.delete(key)

                _ = try await registrar.register(
                    ServiceInstance(service: service, id: "\(service)-b", endpoint: endpoints[1]),
                    ttl: TestServers.scaled(.seconds(10))
                )
                #expect(try await eventually { pool.currentPool?.servers == Array(endpoints[0...1]) })
            }
        }
    }

    @Test("a Confd resource naming a service renders Consul's passing instances and re-renders as they change")
    func confdService() async throws {
        let registrar = try ConsulClientTests.client()
        let consul = try ConsulClientTests.client()
        defer { consul.close() }
        let service = Self.uniqueService("web")
        let prefix = TestServers.uniquePrefix("consul-confd")
        try await consul.put(prefix + "app/name", "shop")
        let directory = NSTemporaryDirectory() + "beacon-consul-confd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let template = directory + "/web.tmpl"
        try """
        # {{app.name}}
        {{#instances(services.\(service))}}
        server {{address}}; # {{id}} {{metadata.zone}}
        {{/instances(services.\(service))}}
        """.write(toFile: template, atomically: true, encoding: .utf8)
        let resource = TemplateResource(
            name: "web.toml",
            source: template,
            destination: directory + "/web.conf",
            keys: ["/app", "service:\(service)"],
            prefix: prefix
        )
        let confd = try Confd(
            resources: [resource],
            source: consul,
            configuration: .init(mode: .watch),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        func rendered() -> String? { try? String(contentsOfFile: directory + "/web.conf", encoding: .utf8) }
        try await Self.registering(registrar) {
            let first = try await registrar.register(
                ServiceInstance(
                    service: service,
                    id: "\(service)-w1",
                    endpoint: Endpoint(host: "10.0.1.1", port: 8080),
                    metadata: ["zone": "eu-1"]
                ),
                ttl: TestServers.scaled(.seconds(10))
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await confd.run() }
                defer { group.cancelAll() }
                #expect(try await eventually { rendered() == "# shop\nserver 10.0.1.1:8080; # \(service)-w1 eu-1\n" })
                _ = try await registrar.register(
                    ServiceInstance(
                        service: service,
                        id: "\(service)-w2",
                        endpoint: Endpoint(host: "10.0.1.2", port: 8080),
                        metadata: ["zone": "eu-2"]
                    ),
                    ttl: TestServers.scaled(.seconds(10))
                )
                #expect(
                    try await eventually {
                        rendered()
                            == "# shop\nserver 10.0.1.1:8080; # \(service)-w1 eu-1\nserver 10.0.1.2:8080; # \(service)-w2 eu-2\n"
                    }
                )
                await first.cancel()
                #expect(try await eventually { rendered() == "# shop\nserver 10.0.1.2:8080; # \(service)-w2 eu-2\n" })
            }
        }
        try await consul.delete(prefix: prefix)
    }
}
