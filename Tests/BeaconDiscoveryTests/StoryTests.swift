// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconExpression
import BeaconMemcached
import BeaconTesting
import Foundation
import Testing

@Suite("The story's YAML over a StaticSource")
struct StoryTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "beacon-discovery-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the story's YAML builds the session handler over the discovered memcached servers")
    func storyYAML() async throws {
        let source = StaticSource([
            "/memcached/servers/a": "10.0.0.1:11211",
            "/memcached/servers/b": #"{"id":"b","service":"memcached","host":"10.0.0.2","port":11212}"#,
        ])
        var builder = try storyBuilder(url: "etcd://127.0.0.1:1", cacheDirectory: "", source: source)
        try builder.loadYAML(storyServicesYAML)
        let container = try builder.build()
        try await withRunningContainer(container) {
            let handler = try await container.get("session.handler.memcache", as: MemcachedSessionHandler.self)
            #expect(handler.memcached.currentPool?.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11212"])

            // A server joins: the same pool swaps its servers; the handler is not rebuilt.
            let generation = handler.memcached.generation
            source.set("/memcached/servers/c", to: "10.0.0.3:11211")
            #expect(try await eventually { handler.memcached.generation > generation })
            #expect(handler.memcached.currentPool?.servers.count == 3)
            #expect(try await container.get("session.handler.memcache", as: MemcachedSessionHandler.self) === handler)
            #expect(container.constructionCount(of: "session.handler.memcache") == 1)
        }
    }

    @Test("a service built from a raw value is rebuilt when it changes, not when a neighbouring key does")
    func rawValueRebuild() async throws {
        let source = StaticSource(["/db/main/endpoint": "10.0.0.5:5432"])
        let constructions = Counter()
        var builder = try storyBuilder(
            url: "etcd://127.0.0.1:1",
            cacheDirectory: "",
            source: source,
            constructions: constructions
        )
        try builder.loadYAML(
            storyServicesYAML + """

                    app.database.endpoint:
                        class: DatabaseEndpoint
                        arguments: ["@=service('myapp.dynamic.configuration').endpoint('/db/main/endpoint')"]
                """
        )
        let container = try builder.build()
        try await withRunningContainer(container) {
            let first = try await container.get("app.database.endpoint", as: DatabaseEndpoint.self)
            #expect(first.endpoint == "10.0.0.5:5432")
            let discovery = try await container.get(
                "myapp.dynamic.configuration",
                as: DiscoveryService.self
            )
            // Under the watched key's prefix, but another key: nothing is rebuilt.
            source.set("/db/main/endpoint2", to: "10.9.9.9:5432")
            source.set("/unrelated", to: "x")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await container.get("app.database.endpoint", as: DatabaseEndpoint.self) === first)
            #expect(constructions.value == 1)

            source.set("/db/main/endpoint", to: "10.0.0.6:5432")
            #expect(
                try await eventually {
                    try await container.get("app.database.endpoint", as: DatabaseEndpoint.self).endpoint
                        == "10.0.0.6:5432"
                }
            )
            #expect(constructions.value == 2)
            #expect(container.constructionCount(of: "myapp.dynamic.configuration") == 1)
            _ = discovery
        }
    }

    @Test("the raw-value methods from code and from expressions")
    func rawValues() async throws {
        let source = StaticSource([
            "/db/main/endpoint": "10.0.0.5:5432",
            "/cache/servers": "10.0.0.1:11211,10.0.0.2:11212",
            "/services/web/w1": #"{"id":"w1","service":"web","host":"10.0.1.1","port":8080,"metadata":{"zone":"a"}}"#,
        ])
        let discovery = DiscoveryService(source: source)
        #expect(try await discovery.get("/db/main/endpoint") == "10.0.0.5:5432")
        #expect(try await discovery.get("/absent") == nil)
        #expect(try await discovery.endpoint("/db/main/endpoint").port == 5432)
        #expect(
            try await discovery.endpoints("/cache/servers", defaultPort: 11211).map(\.description) == [
                "10.0.0.1:11211", "10.0.0.2:11212",
            ]
        )
        #expect(try await discovery.instances(of: "web").map(\.id) == ["w1"])

        var builder = ContainerBuilder()
        builder.register("discovery", as: DiscoveryService.self) { _ in discovery }
        builder.registerFactory("Value") { arguments in try arguments.string(0) }
        builder.register("a", factory: "Value", arguments: [.expression("service('discovery').get('/absent', 'none')")])
        builder.register(
            "b",
            factory: "Value",
            arguments: [.expression("join(',', service('discovery').endpoints('/cache/servers'))")]
        )
        builder.register(
            "c",
            factory: "Value",
            arguments: [.expression("service('discovery').instances('web')[0]['metadata']['zone']")]
        )
        builder.register("d", factory: "Value", arguments: [.expression("service('discovery').get()")])
        builder.register(
            "e",
            factory: "Value",
            arguments: [.expression("service('discovery').get('/db/main/endpoint', 'default', 'extra', 4)")]
        )
        builder.expressionLanguage.register(
            "join",
            evaluator: { arguments in
                guard case .array(let list) = arguments[1] else { return .null }
                return .string(list.values.map { "\($0)" }.joined(separator: ","))
            }
        )
        let container = try builder.build()
        #expect(try await container.get("a", as: String.self) == "none")
        #expect(try await container.get("b", as: String.self) == "10.0.0.1:11211,10.0.0.2:11212")
        #expect(try await container.get("c", as: String.self) == "a")
        #expect(try await container.get("e", as: String.self) == "10.0.0.5:5432")
        let tooFew = await #expect(throws: ExpressionError.self) { try await container.get("d", as: String.self) }
        #expect(tooFew?.code == .argumentCountError)
        #expect(
            tooFew?.message == "Too few arguments to function DiscoveryService::get(), 0 passed and at least 1 expected"
        )
        await discovery.close()
    }

    @Test("an absent key is an error naming the key; a malformed value names the key and the text")
    func errors() async throws {
        let source = StaticSource(["/db/main/endpoint": "not an endpoint:x"])
        let discovery = DiscoveryService(source: source)
        let absent = await #expect(throws: BeaconError.self) { try await discovery.endpoint("/db/other") }
        #expect(absent?.key == "/db/other")
        let malformed = await #expect(throws: BeaconError.self) { try await discovery.endpoint("/db/main/endpoint") }
        #expect(malformed?.key == "/db/main/endpoint")
        #expect(malformed?.text == "not an endpoint:x")
        let empty = await #expect(throws: BeaconError.self) { try await discovery.memcached(.prefix("/none/")) }
        #expect(empty?.code == .notFound)
    }

    @Test("discovery URLs: unknown schemes and malformed endpoints are errors naming the URL")
    func urls() async throws {
        for url in [
            "127.0.0.1:2379", "http://127.0.0.1:2379", "etcd://", "etcd://user@host:1", "file://relative",
            "zookeeper://", "zookeeper://127.0.0.1", "consul://127.0.0.1", "consul://user@127.0.0.1:8500",
        ] {
            let error = #expect(throws: BeaconError.self) { try DiscoveryService(url: url) }
            #expect(error?.text == url.replacingOccurrences(of: "user@", with: "********@"))
        }
        await (try DiscoveryService(url: "etcd://127.0.0.1:1,127.0.0.1:2")).close()
        await (try DiscoveryService(url: "zookeeper://127.0.0.1:1,127.0.0.1:2/apps")).close()
        await (try DiscoveryService(url: "consul://127.0.0.1:1,127.0.0.1:2")).close()
    }

    @Test("locations in YAML and expressions: key, prefix, Patroni leader")
    func locations() throws {
        #expect(try DiscoveryLocation(parsing: "/a/b") == .key("/a/b"))
        #expect(try DiscoveryLocation(parsing: "/a/b/") == .prefix("/a/b/"))
        #expect(try DiscoveryLocation(parsing: "patroni:/service/beacon") == .patroniLeader(scope: "beacon"))
        #expect(throws: BeaconError.self) { try DiscoveryLocation(parsing: "a/b") }
        #expect(throws: BeaconError.self) { try DiscoveryLocation(parsing: "patroni:beacon") }
    }
}
