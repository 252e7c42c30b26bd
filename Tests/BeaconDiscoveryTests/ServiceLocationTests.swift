// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconMemcached
import BeaconTesting
import Foundation
import Testing

/// The discovery service's service locations over a `StaticSource` used as a registry: the instances are registered
/// and withdrawn through `ServiceRegistry`, and read through it.
@Suite("DiscoveryService: services as locations", .timeLimit(.minutes(1)))
struct DiscoveryServiceLocationTests {
    static func instance(_ service: String, _ id: String, _ host: String, port: Int) -> ServiceInstance {
        ServiceInstance(service: service, id: id, endpoint: Endpoint(host: host, port: port), metadata: ["zone": id])
    }

    @Test("endpoints(at: .service), endpoints(\"service:...\") and instances(of:) read the registry")
    func rawValues() async throws {
        let registry = StaticSource()
        let discovery = DiscoveryService(source: registry)
        _ = try await registry.register(Self.instance("web", "w2", "10.0.1.2", port: 8080), ttl: .seconds(10))
        _ = try await registry.register(Self.instance("web", "w1", "10.0.1.1", port: 8081), ttl: .seconds(10))
        #expect(
            try await discovery.endpoints(at: .service("web")).map(\.description) == ["10.0.1.1:8081", "10.0.1.2:8080"]
        )
        #expect(try await discovery.endpoints("service:web").count == 2)
        #expect(try await discovery.instances(of: "web").map(\.id) == ["w1", "w2"])
        #expect(try await discovery.instances(of: "none").isEmpty)
        let malformed = await #expect(throws: BeaconError.self) { try await discovery.endpoints("service:") }
        #expect(malformed?.code == .invalidKey)
        await discovery.close()
    }

    @Test("YAML: getMemcached('service:memcached') follows registrations; endpoints('service:web') rebuilds its reader")
    func yaml() async throws {
        let registry = StaticSource()
        let first = try await registry.register(
            Self.instance("memcached", "m1", "10.0.0.1", port: 11211),
            ttl: .seconds(10)
        )
        _ = try await registry.register(Self.instance("web", "w1", "10.0.1.1", port: 8080), ttl: .seconds(10))
        let constructions = Counter()
        var builder = try storyBuilder(
            url: "consul://127.0.0.1:1",
            cacheDirectory: "",
            source: registry,
            constructions: constructions
        )
        builder.registerFactory("Upstream") { arguments in
            constructions.increment()
            return try arguments.list(0).map { "\($0)" }.joined(separator: ",")
        }
        try builder.loadYAML(
            """
            services:
                session.handler.memcache:
                    class: MemcachedSessionHandler
                    arguments: ["@=service('myapp.dynamic.configuration').getMemcached('service:memcached')"]
                app.upstream:
                    class: Upstream
                    arguments: ["@=service('myapp.dynamic.configuration').endpoints('service:web')"]
                app.zone:
                    class: DatabaseEndpoint
                    arguments: ["@=service('myapp.dynamic.configuration').instances('web')[0]['metadata']['zone']"]
                myapp.dynamic.configuration:
                    class: DynamicConfigurationService
                    arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]
            """
        )
        let container = try builder.build()
        try await withRunningContainer(container) {
            let handler = try await container.get("session.handler.memcache", as: MemcachedSessionHandler.self)
            #expect(handler.memcached.currentPool?.servers.map(\.description) == ["10.0.0.1:11211"])
            #expect(try await container.get("app.upstream", as: String.self) == "10.0.1.1:8080")
            #expect(try await container.get("app.zone", as: DatabaseEndpoint.self).endpoint == "w1")

            // A memcached server registers, the first one leaves: the same pool swaps its servers.
            let generation = handler.memcached.generation
            _ = try await registry.register(
                Self.instance("memcached", "m2", "10.0.0.2", port: 11212),
                ttl: .seconds(10)
            )
            await first.cancel()
            #expect(
                try await eventually {
                    handler.memcached.generation > generation
                        && handler.memcached.currentPool?.servers.map(\.description) == ["10.0.0.2:11212"]
                }
            )
            #expect(container.constructionCount(of: "session.handler.memcache") == 1)

            // A web instance registers: the service that read the list is rebuilt with the new one.
            _ = try await registry.register(Self.instance("web", "w2", "10.0.1.2", port: 8080), ttl: .seconds(10))
            #expect(
                try await eventually {
                    try await container.get("app.upstream", as: String.self) == "10.0.1.1:8080,10.0.1.2:8080"
                }
            )
        }
    }

    @Test("a service on a source that is not a registry (a file) is refused with an error that says so")
    func notARegistry() async throws {
        let path = NSTemporaryDirectory() + "beacon-discovery-\(UUID().uuidString).json"
        try #"{"memcached": {"servers": {"a": "10.0.0.1:11211"}}}"#.write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        let discovery = try DiscoveryService(url: "file://" + path)
        let error = await #expect(throws: BeaconError.self) { try await discovery.memcached(.service("memcached")) }
        #expect(error?.code == .unsupportedLocation)
        #expect(error?.message.contains("the source is not a service registry: FileSource") == true)
        let instances = await #expect(throws: BeaconError.self) { try await discovery.instances(of: "web") }
        #expect(instances?.code == .unsupportedLocation)
        #expect(try await discovery.memcached(.prefix("/memcached/servers/")).currentPool?.servers.count == 1)
        await discovery.close()
    }
}

/// What a `DiscoveryService` with a cache directory writes there, as Documentation/Cache.md shows it.
@Suite("DiscoveryService: persistence", .timeLimit(.minutes(1)))
struct DiscoveryServicePersistenceTests {
    @Test("excludedFromPersistence keeps discovered database parameters and their password off disk")
    func excludedKeys() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = StaticSource([
            "/db/main/parameters": #"{"host":"10.0.0.5","password":"planted-Secret-4f2a"}"#,
            "/db/main/endpoint": "10.0.0.5:5432",
        ])
        var configuration = DiscoveryService.Configuration()
        configuration.excludedFromPersistence = ["/db/main/parameters"]
        let discovery = DiscoveryService(source: source, cacheDirectory: directory.path, configuration: configuration)
        #expect(try await discovery.get("/db/main/parameters")?.contains("planted-Secret-4f2a") == true)
        #expect(try await discovery.get("/db/main/endpoint") == "10.0.0.5:5432")
        await discovery.close()

        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.isEmpty)
        var written = Data()
        for file in files { written += try Data(contentsOf: directory.appendingPathComponent(file)) }
        #expect(String(decoding: written, as: UTF8.self).contains("10.0.0.5:5432"))
        #expect(!String(decoding: written, as: UTF8.self).contains("planted-Secret-4f2a"))
    }
}
