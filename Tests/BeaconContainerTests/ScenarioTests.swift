// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconExpression
import ExpressionCorpusSupport
import Testing

/// The application's glue between discovery and the container: a configuration service that reads a source.
final class DynamicConfiguration: ExpressionObject {
    let className = "DynamicConfiguration"
    let servers: [String]

    init(servers: [String]) {
        self.servers = servers
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .list(servers.map { .string($0) })
    }
}

/// What the session handler was built with.
final class MemcacheSessionHandler: Sendable {
    let servers: [String]
    let ttl: Int

    init(servers: [String], ttl: Int) {
        self.servers = servers
        self.ttl = ttl
    }
}

@Suite("The seed's scenario")
struct ScenarioTests {
    @Test("a discovery change rebuilds the session handler on its next get")
    func memcachedServersChange() async throws {
        let source = StaticSource(["/services/memcached/a": "10.0.0.1:11211"])
        var builder = ContainerBuilder()
        builder.registerFactory("DynamicConfiguration") { arguments in
            let entries = await source.list(prefix: try arguments.string(0))
            return DynamicConfiguration(servers: entries.map(\.string))
        }
        builder.registerFactory("MemcacheSessionHandler") { arguments in
            MemcacheSessionHandler(
                servers: try arguments.list(0).map { try ExpressionLanguage.string($0).description },
                ttl: try arguments.int(1)
            )
        }
        try builder.loadYAML(file: try YAMLFixtures.path("scenario.yaml"))
        let (handled, acknowledge) = AsyncStream<Void>.makeStream()
        builder.refresh(
            "myapp.dynamic.configuration",
            on: ObservedSequence(base: source.watch(prefix: "/services/memcached/"), requests: acknowledge)
        )
        let container = try builder.build()

        let first = try await container.get("session.handler.memcache", as: MemcacheSessionHandler.self)
        #expect(first.servers == ["10.0.0.1:11211"])
        #expect(first.ttl == 3600)
        #expect(try await container.get("session.handler.memcache", as: MemcacheSessionHandler.self) === first)

        try await withRunningContainer(container) {
            var requests = handled.makeAsyncIterator()
            _ = await requests.next()  // the container waits for the watch's first snapshot
            _ = await requests.next()  // it handled the first snapshot (the current state)
            source.set("/services/memcached/b", to: "10.0.0.2:11211")
            _ = await requests.next()  // it handled the change
            let second = try await container.get("session.handler.memcache", as: MemcacheSessionHandler.self)
            #expect(second.servers == ["10.0.0.1:11211", "10.0.0.2:11211"])
        }
        // The handler the application already held still works with the old list.
        #expect(first.servers == ["10.0.0.1:11211"])
    }
}
