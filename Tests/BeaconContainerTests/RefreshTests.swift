// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import BeaconLocks
import Testing

@Suite("Refresh")
struct RefreshTests {
    static func fixture() throws -> (ContainerBuilder, ServiceKey<Config>, ManualSignal, SharedServers) {
        var builder = ContainerBuilder()
        let servers = SharedServers("10.0.0.1:11211")
        let signal = ManualSignal()
        let config = builder.register("memcached.config", as: Config.self, scope: .refreshable) { _ in
            Config(servers: servers.value)
        }
        builder.register("memcached.pool", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(config).servers)
        }
        builder.registerFactory("SessionHandler") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register(
            "session.handler",
            factory: "SessionHandler",
            arguments: ["@=service('memcached.config').getMemcached()"]
        )
        builder.register("clock", as: Clock.self) { _ in Clock() }
        builder.refresh("memcached.config", on: signal.sequence)
        return (builder, config, signal, servers)
    }

    @Test("invalidating the config rebuilds its dependents on their next get; unrelated services stay")
    func invalidate() async throws {
        let (builder, config, _, servers) = try Self.fixture()
        let container = try builder.build()
        let oldPool = try await container.get("memcached.pool", as: Pool.self)
        let oldHandler = try await container.get("session.handler", as: Pool.self)
        let clock = try await container.get("clock", as: Clock.self)
        let oldConfig = try await container.get(config)

        servers.set("10.0.0.2:11211")
        try container.invalidate("memcached.config")

        let newPool = try await container.get("memcached.pool", as: Pool.self)
        let newHandler = try await container.get("session.handler", as: Pool.self)
        #expect(newPool !== oldPool && newPool.servers == "10.0.0.2:11211")
        #expect(newHandler !== oldHandler && newHandler.servers == "10.0.0.2:11211")
        #expect(try await container.get(config) !== oldConfig)
        #expect(try await container.get("clock", as: Clock.self) === clock)
        #expect(container.constructionCount(of: "clock") == 1)
        #expect(container.constructionCount(of: "memcached.pool") == 2)
        // The old instances keep serving the callers that hold them.
        #expect(oldPool.servers == "10.0.0.1:11211")
    }

    @Test("a change signal invalidates the service while the container runs")
    func changeSignal() async throws {
        let (builder, _, signal, servers) = try Self.fixture()
        let container = try builder.build()
        let first = try await container.get("session.handler", as: Pool.self)
        try await withRunningContainer(container) {
            await signal.started()
            servers.set("10.0.0.3:11211")
            await signal.send()
            let second = try await container.get("session.handler", as: Pool.self)
            #expect(second.servers == "10.0.0.3:11211")
            #expect(first.servers == "10.0.0.1:11211")
        }
    }

    @Test("dependencies resolved through a dynamic service() name are followed")
    func dynamicExpressionDependency() async throws {
        var builder = ContainerBuilder()
        let servers = SharedServers("a")
        builder.setParameter("config.id", "config")
        builder.register("config", as: Config.self, scope: .refreshable) { _ in Config(servers: servers.value) }
        builder.registerFactory("Pool") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register("pool", factory: "Pool", arguments: ["@=service(parameter('config.id')).getMemcached()"])
        let container = try builder.build()
        #expect(try await container.get("pool", as: Pool.self).servers == "a")
        servers.set("b")
        try container.invalidate("config")
        #expect(try await container.get("pool", as: Pool.self).servers == "b")
    }

    @Test("invalidation follows transient services in between")
    func throughTransient() async throws {
        var builder = ContainerBuilder()
        let servers = SharedServers("a")
        builder.register("config", as: Config.self, scope: .refreshable) { _ in Config(servers: servers.value) }
        builder.register("client", as: Pool.self, scope: .transient) { resolver in
            Pool(servers: try await resolver.get("config", as: Config.self).servers)
        }
        builder.register("service", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get("client", as: Pool.self).servers)
        }
        let container = try builder.build()
        #expect(try await container.get("service", as: Pool.self).servers == "a")
        servers.set("b")
        try container.invalidate("config")
        #expect(try await container.get("service", as: Pool.self).servers == "b")
    }

    @Test("a build that was running when its dependency was invalidated is not kept")
    func staleBuild() async throws {
        var builder = ContainerBuilder()
        let servers = SharedServers("a")
        let gate = Gate()
        let first = Counter()
        builder.register("config", as: Config.self, scope: .refreshable) { _ in Config(servers: servers.value) }
        builder.register("pool", as: Pool.self) { resolver in
            let config = try await resolver.get("config", as: Config.self)
            if first.increment() == 1 {
                await gate.wait()
            }
            return Pool(servers: config.servers)
        }
        let container = try builder.build()
        try await withThrowingTaskGroup(of: Pool.self) { group in
            group.addTask { try await container.get("pool", as: Pool.self) }
            await gate.arrivals(1)
            servers.set("b")
            try container.invalidate("config")
            gate.open()
            #expect(try await group.next()?.servers == "a")
        }
        #expect(try await container.get("pool", as: Pool.self).servers == "b")
    }

    @Test("only refreshable services can be invalidated")
    func notRefreshable() throws {
        var builder = ContainerBuilder()
        builder.register("clock", as: Clock.self) { _ in Clock() }
        let container = try builder.build()
        let error = #expect(throws: ContainerError.self) { try container.invalidate("clock") }
        #expect(error?.code == .notRefreshable)
        #expect(
            error?.message == "The service \"clock\" is not refreshable; only refreshable services can be invalidated."
        )
    }
}

/// A value the tests change between builds.
final class SharedServers: Sendable {
    private let current: Lock<String>

    init(_ value: String) {
        current = Lock(value)
    }

    var value: String { current.withLock { $0 } }

    func set(_ value: String) {
        current.withLock { $0 = value }
    }
}
