// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import UnixSignals

// The examples of Documentation/Container.md, as written there.

/// The documentation's configuration service.
final class MemcachedConfiguration: ExpressionObject {
    let className = "MemcachedConfiguration"
    let servers: [String]

    init(servers: [String]) {
        self.servers = servers
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .string(servers.joined(separator: ","))
    }
}

/// The documentation's session handler.
final class SessionHandler: Sendable {
    let servers: String
    let ttl: Int

    init(servers: String, ttl: Int) {
        self.servers = servers
        self.ttl = ttl
    }
}

@Suite("Documentation/Container.md")
struct DocumentationTests {
    @Test("code first")
    func codeFirst() async throws {
        let discovered = SharedServers("10.0.0.1:11211")

        var builder = ContainerBuilder()
        builder.setParameter("session.ttl", 3600)
        let configuration = builder.register(
            "memcached.configuration",
            as: MemcachedConfiguration.self,
            scope: .refreshable
        ) { _ in
            MemcachedConfiguration(servers: [discovered.value])
        }
        let handler = builder.register("session.handler", as: SessionHandler.self) { resolver in
            let configuration = try await resolver.get(configuration)
            guard case .int(let ttl) = try resolver.parameter("session.ttl") else { throw CancellationError() }
            return SessionHandler(servers: configuration.servers.joined(separator: ","), ttl: ttl)
        }
        let container = try builder.build()

        let first = try await container.get(handler)  // built now, once
        #expect(first.servers == "10.0.0.1:11211")
        #expect(try await container.get(handler) === first)

        discovered.set("10.0.0.2:11211")
        try container.invalidate("memcached.configuration")
        #expect(try await container.get(handler).servers == "10.0.0.2:11211")
    }

    @Test("YAML first")
    func yamlFirst() async throws {
        var builder = ContainerBuilder(environment: ["MEMCACHED_PORT": "11211"])
        builder.registerFactory("MemcachedConfiguration") { arguments in
            MemcachedConfiguration(servers: [try arguments.string(0)])
        }
        builder.registerFactory("SessionHandler") { arguments in
            SessionHandler(servers: try arguments.string(0), ttl: try arguments.int(1))
        }
        try builder.loadYAML(
            """
            parameters:
              memcached.host: 10.0.0.1
              session.ttl: 3600

            services:
              myapp.dynamic.configuration:
                class: MemcachedConfiguration
                refreshable: true
                arguments: ['%memcached.host%:%env(int:MEMCACHED_PORT)%']

              session.handler.memcache:
                class: SessionHandler
                arguments:
                  - '@=service("myapp.dynamic.configuration").getMemcached()'
                  - '%session.ttl%'

              session.handler: '@session.handler.memcache'
            """,
            file: "services.yaml"
        )
        let container = try builder.build()
        let handler = try await container.get("session.handler", as: SessionHandler.self)
        #expect(handler.servers == "10.0.0.1:11211")
        #expect(handler.ttl == 3600)
    }

    @Test("change signals")
    func changeSignals() async throws {
        let discovered = SharedServers("10.0.0.1:11211")
        let signal = ManualSignal()
        var builder = ContainerBuilder()
        builder.register("memcached.configuration", scope: .refreshable) { _ in
            MemcachedConfiguration(servers: [discovered.value])
        }
        builder.refresh("memcached.configuration", on: signal.sequence)
        let container = try builder.build()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await container.run() }
            await signal.started()
            discovered.set("10.0.0.2:11211")
            await signal.send()
            let configuration = try await container.get("memcached.configuration", as: MemcachedConfiguration.self)
            #expect(configuration.servers == ["10.0.0.2:11211"])
            group.cancelAll()
        }
    }

    @Test("services built from outside inputs")
    func outsideInputs() async throws {
        final class Database: Sendable {
            let host: String
            init(host: String) { self.host = host }
        }
        let current = SharedServers("10.0.0.1")
        var builder = ContainerBuilder()

        let host = ContainerInput("/db/host")
        builder.register("database", as: Database.self) { resolver in
            try await resolver.recordingInputs {
                host.recordRead()  // first record, then read: no change can slip in between
                return Database(host: current.value)
            }
        }
        // when the outside value changes:
        let container = try builder.build()
        #expect(try await container.get("database", as: Database.self).host == "10.0.0.1")
        current.set("10.0.0.2")
        host.changed()  // "database" and what was built from it: rebuilt on next get
        #expect(try await container.get("database", as: Database.self).host == "10.0.0.2")
    }

    @Test("running the container in a service group")
    func serviceGroup() async throws {
        let container = try ContainerBuilder().build()
        let httpServer = RunningService()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    let group = ServiceGroup(
                        services: [container, httpServer],
                        gracefulShutdownSignals: [.sigterm],
                        logger: logger
                    )
                    try await group.run()
                }
                await httpServer.started.wait()
                trigger.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test("error examples")
    func errors() throws {
        var builder = ContainerBuilder()
        builder.registerFactory("SessionHandler") { _ in SessionHandler(servers: "", ttl: 0) }
        builder.register("a", factory: "SessionHandler", arguments: ["@b"])
        builder.register("b", factory: "SessionHandler", arguments: ["@=service('a')"])
        let cycle = #expect(throws: ContainerError.self) { try builder.build() }
        #expect(cycle?.message == "Circular reference detected for service \"a\", path: \"a -> b -> a\".")

        var missing = ContainerBuilder()
        missing.registerFactory("SessionHandler") { _ in SessionHandler(servers: "", ttl: 0) }
        missing.register("handler", factory: "SessionHandler", arguments: ["%session.ttl%"])
        let parameter = #expect(throws: ContainerError.self) { try missing.build() }
        #expect(
            parameter?.message
                == "The service \"handler\" has a dependency on a non-existent parameter \"session.ttl\"."
        )
    }
}
