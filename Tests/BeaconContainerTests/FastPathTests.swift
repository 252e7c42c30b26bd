// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import BeaconLocks
import Testing

@testable import BeaconContainer

/// The fast path of a typed `get`: a built service read from its slot under the slot's lock, without an async
/// call; services that are not built, or asked for with another type, take the slow path.
@Suite("Fast path of get")
struct FastPathTests {
    static func isBuilt(_ id: String, in container: Container) -> Bool {
        guard let slot = container.index.slot(of: id) else { return false }
        return container.slots[slot].lockedFastObject != nil
    }

    @Test("built shared and refreshable services are read from their slot; transient ones are built each time")
    func builtServices() async throws {
        var builder = ContainerBuilder()
        let config = builder.register("config", as: Config.self, scope: .refreshable) { _ in Config(servers: "a") }
        let clock = builder.register("clock", as: Clock.self) { _ in Clock() }
        builder.register("pool", as: Pool.self) { resolver in Pool(servers: try await resolver.get(config).servers) }
        builder.register("pool.transient", as: Pool.self, scope: .transient) { _ in Pool(servers: "t") }
        builder.register("uses.transient", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get("pool.transient", as: Pool.self).servers)
        }
        let container = try builder.build()
        #expect(!Self.isBuilt("clock", in: container))
        let first = try await container.get(clock)
        #expect(Self.isBuilt("clock", in: container))
        #expect(try await container.get(clock) === first)
        #expect(try await container.get("clock", as: Clock.self) === first)

        let pool = try await container.get("pool", as: Pool.self)
        let transient = try await container.get("pool.transient", as: Pool.self)
        let usesTransient = try await container.get("uses.transient", as: Pool.self)
        #expect(Self.isBuilt("config", in: container))
        #expect(Self.isBuilt("pool", in: container))
        #expect(!Self.isBuilt("pool.transient", in: container))
        #expect(Self.isBuilt("uses.transient", in: container))
        #expect(try await container.get("pool", as: Pool.self) === pool)
        #expect(try await container.get("pool.transient", as: Pool.self) !== transient)
        #expect(try await container.get("uses.transient", as: Pool.self) === usesTransient)
    }

    @Test("a service built through an expression from a refreshable one is rebuilt after an invalidation")
    func expressionDependency() async throws {
        var builder = ContainerBuilder()
        let servers = Lock("a")
        builder.register("config", as: Config.self, scope: .refreshable) { _ in
            Config(servers: servers.withLock { $0 })
        }
        builder.registerFactory("Pool") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register("pool", factory: "Pool", arguments: [.expression("service('config').getMemcached()")])
        let container = try builder.build()
        #expect(try await container.get("pool", as: Pool.self).servers == "a")
        servers.withLock { $0 = "b" }
        try container.invalidate("config")
        #expect(try await container.get("pool", as: Pool.self).servers == "b")
    }

    @Test("invalidating a refreshable service rebuilds its typed dependents, read under their lock")
    func invalidateThenGet() async throws {
        var builder = ContainerBuilder()
        let servers = Lock("a")
        let config = builder.register("config", as: Config.self, scope: .refreshable) { _ in
            Config(servers: servers.withLock { $0 })
        }
        let pool = builder.register("pool", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(config).servers)
        }
        let container = try builder.build()
        let old = try await container.get(pool)
        #expect(try await container.get(pool) === old)
        for round in 1...5 {
            servers.withLock { $0 = "round \(round)" }
            try container.invalidate("config")
            let new = try await container.get(pool)
            #expect(new !== old)
            #expect(new.servers == "round \(round)")
            #expect(try await container.get(pool) === new)
            #expect(try await container.get("pool", as: Pool.self) === new)
        }
        #expect(container.constructionCount(of: "pool") == 6)
        #expect(old.servers == "a")
    }

    @Test("a built service reached by an invalidation later is rebuilt, and the new instance kept")
    func lateDependency() async throws {
        var builder = ContainerBuilder()
        let servers = Lock("a")
        let kept = Lock<Resolver?>(nil)
        let config = builder.register("config", as: Config.self, scope: .refreshable) { _ in
            Config(servers: servers.withLock { $0 })
        }
        // The factory keeps its resolver and resolves `config` only after the pool is built.
        let pool = builder.register("pool", as: Pool.self) { resolver in
            kept.withLock { $0 = resolver }
            return Pool(servers: "built")
        }
        let container = try builder.build()
        let first = try await container.get(pool)
        #expect(Self.isBuilt("pool", in: container))
        let resolver = try #require(kept.withLock { $0 })
        _ = try await resolver.get(config)

        try container.invalidate("config")
        #expect(!Self.isBuilt("pool", in: container))
        let second = try await container.get(pool)
        #expect(second !== first)
        #expect(Self.isBuilt("pool", in: container))
        #expect(try await container.get(pool) === second)
        #expect(first.servers == "built")
    }

    @Test("a chain of resolvers deeper than the path keeps inline reports a dynamic cycle with its whole path")
    func deepChain() async throws {
        var builder = ContainerBuilder()
        for level in 0..<7 {
            builder.register("level.\(level)", as: Pool.self) { resolver in
                // The last level asks for the first one again: a cycle seven services long.
                let next = (level + 1) % 7
                return Pool(servers: try await resolver.get("level.\(next)", as: Pool.self).servers)
            }
        }
        let container = try builder.build()
        do {
            _ = try await container.get("level.0", as: Pool.self)
            Issue.record("expected a circular reference")
        } catch let error as ContainerError {
            #expect(error.code == .circularReference)
            let path = (0..<7).map { "level.\($0)" }.joined(separator: " -> ") + " -> level.0"
            #expect(error.message.contains(path))
        }
        #expect(!Self.isBuilt("level.0", in: container))
    }

    @Test("a value type is kept in its box and read back")
    func valueType() async throws {
        var builder = ContainerBuilder()
        let key = builder.register("settings", as: [String: Int].self) { _ in ["port": 11211] }
        let container = try builder.build()
        #expect(try await container.get(key) == ["port": 11211])
        #expect(Self.isBuilt("settings", in: container))
        #expect(try await container.get(key) == ["port": 11211])
        #expect(try await container.get("settings", as: [String: Int].self) == ["port": 11211])
    }

    @Test("a get with another type than the registered one takes the slow path and casts")
    func otherType() async throws {
        var builder = ContainerBuilder()
        builder.register("config", as: Config.self) { _ in Config(servers: "a") }
        let container = try builder.build()
        let config = try await container.get("config", as: Config.self)
        let object = try await container.get("config", as: (any ExpressionObject).self)
        #expect(object === config)
        await #expect(throws: ContainerError.self) {
            _ = try await container.get("config", as: Pool.self)
        }
    }

    @Test("a key from a diverged copy of the builder is not taken for another service's slot")
    func divergedBuilderCopies() async throws {
        var first = ContainerBuilder()
        first.register("config", as: Config.self) { _ in Config(servers: "shared") }
        var second = first
        let firstKey = first.register("pool.a", as: Pool.self) { _ in Pool(servers: "a") }
        let secondKey = second.register("pool.b", as: Pool.self) { _ in Pool(servers: "b") }
        let firstContainer = try first.build()
        let secondContainer = try second.build()
        #expect(try await firstContainer.get(firstKey).servers == "a")
        #expect(try await secondContainer.get(secondKey).servers == "b")
        await #expect(throws: ContainerError.self) {
            _ = try await secondContainer.get(firstKey)
        }
        await #expect(throws: ContainerError.self) {
            _ = try await firstContainer.get(secondKey)
        }
    }

    @Test("1,000 concurrent first gets through a typed key construct once and all get the same instance")
    func concurrentTypedFirstGets() async throws {
        var builder = ContainerBuilder()
        let gate = Gate()
        let constructions = Counter()
        let key = builder.register("pool", as: Pool.self) { _ in
            constructions.increment()
            await gate.wait()
            return Pool(servers: "a")
        }
        let container = try builder.build()
        let instances = try await withThrowingTaskGroup(of: Pool.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await container.get(key) }
            }
            await gate.arrivals(1)
            await ConcurrencyTests.waitForWaiters(999, of: "pool", in: container)
            gate.open()
            var instances: [Pool] = []
            for try await instance in group {
                instances.append(instance)
            }
            return instances
        }
        #expect(instances.allSatisfy { $0 === instances[0] })
        #expect(constructions.value == 1)
        #expect(try await container.get(key) === instances[0])
    }

    @Test("concurrent gets while a refreshable dependency is invalidated again and again get whole instances")
    func concurrentGetsDuringRebuilds() async throws {
        var builder = ContainerBuilder()
        let generation = Counter()
        let config = builder.register("config", as: Config.self, scope: .refreshable) { _ in
            Config(servers: "generation \(generation.increment())")
        }
        let pool = builder.register("pool", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(config).servers)
        }
        let clock = builder.register("clock", as: Clock.self) { _ in Clock() }
        let container = try builder.build()
        let theClock = try await container.get(clock)
        let seen = try await withThrowingTaskGroup(of: Set<String>.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen = Set<String>()
                    for _ in 0..<500 {
                        let instance = try await container.get(pool)
                        #expect(instance.servers.hasPrefix("generation "))
                        #expect(try await container.get(clock) === theClock)
                        seen.insert(instance.servers)
                    }
                    return seen
                }
            }
            group.addTask {
                for _ in 0..<200 {
                    try container.invalidate("config")
                    await Task.yield()
                }
                return []
            }
            var seen = Set<String>()
            for try await part in group {
                seen.formUnion(part)
            }
            return seen
        }
        #expect(!seen.isEmpty)
        #expect(container.constructionCount(of: "clock") == 1)
        let settled = try await container.get(pool)
        #expect(try await container.get(pool) === settled)
        #expect(try await container.get(config).servers == settled.servers)
    }
}
