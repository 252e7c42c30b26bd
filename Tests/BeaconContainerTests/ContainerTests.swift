// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import Testing

@Suite("Code API")
struct ContainerTests {
    @Test("a typed key gets the service; nothing is built before the first get")
    func typedKey() async throws {
        var builder = ContainerBuilder()
        let built = Counter()
        let key = builder.register("config", as: Config.self) { _ in
            built.increment()
            return Config(servers: "a:1")
        }
        let container = try builder.build()
        #expect(built.value == 0)
        let first = try await container.get(key)
        let second = try await container.get(key)
        #expect(first === second)
        #expect(built.value == 1)
        #expect(try await container.get("config", as: Config.self) === first)
        #expect(try await container.get(ServiceKey<Config>("config")) === first)
    }

    @Test("a factory gets other services and parameters through the resolver")
    func resolver() async throws {
        var builder = ContainerBuilder()
        builder.setParameter("memcached.host", "10.0.0.1")
        builder.setParameter("memcached.port", 11211)
        builder.setParameter("memcached.server", "%memcached.host%:%memcached.port%")
        let config = builder.register("config", as: Config.self) { resolver in
            Config(servers: try resolver.parameter("memcached.server").description)
        }
        builder.register("pool", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(config).servers)
        }
        let container = try builder.build()
        #expect(try await container.get("pool", as: Pool.self).servers == "10.0.0.1:11211")
        #expect(try container.parameter("memcached.port") == .int(11211))
    }

    @Test("aliases name the same instance")
    func aliases() async throws {
        var builder = ContainerBuilder()
        builder.register("config") { _ in Config(servers: "a") }
        builder.alias("cache.config", to: "config")
        builder.alias("legacy.config", to: "cache.config")
        let container = try builder.build()
        let config = try await container.get("config", as: Config.self)
        #expect(try await container.get("legacy.config", as: Config.self) === config)
        #expect(container.has("cache.config"))
        #expect(!container.has("nope"))
    }

    @Test("transient services are built on every get")
    func transient() async throws {
        var builder = ContainerBuilder()
        builder.register("pool", scope: .transient) { _ in Pool(servers: "a") }
        let container = try builder.build()
        let first = try await container.get("pool", as: Pool.self)
        let second = try await container.get("pool", as: Pool.self)
        #expect(first !== second)
        #expect(container.constructionCount(of: "pool") == 2)
    }

    @Test("asking for the wrong type or an unknown id throws")
    func lookupErrors() async throws {
        var builder = ContainerBuilder()
        builder.register("config") { _ in Config(servers: "a") }
        builder.register("conf2") { _ in Config(servers: "a") }
        let container = try builder.build()
        let wrongType = await #expect(throws: ContainerError.self) { try await container.get("config", as: Pool.self) }
        #expect(wrongType?.code == .typeMismatch)
        #expect(wrongType?.message == "The service \"config\" is a Config, not a Pool.")
        let unknown = await #expect(throws: ContainerError.self) { try await container.get("confi", as: Config.self) }
        #expect(unknown?.code == .serviceNotFound)
        #expect(
            unknown?.message
                == "You have requested a non-existent service \"confi\". Did you mean one of these: \"config\", \"conf2\"?"
        )
    }

    @Test("a cycle through closures is found at get, with the path")
    func dynamicCycle() async throws {
        var builder = ContainerBuilder()
        builder.register("a", as: Pool.self) { resolver in try await resolver.get("b", as: Pool.self) }
        builder.register("b", as: Pool.self) { resolver in try await resolver.get("c", as: Pool.self) }
        builder.register("c", as: Pool.self) { resolver in try await resolver.get("a", as: Pool.self) }
        let container = try builder.build()
        let error = await #expect(throws: ContainerError.self) { try await container.get("a", as: Pool.self) }
        #expect(error?.code == .circularReference)
        #expect(error?.message == "Circular reference detected for service \"a\", path: \"a -> b -> c -> a\".")
        // The failure is not cached: the next get tries again (and finds the same cycle).
        await #expect(throws: ContainerError.self) { try await container.get("b", as: Pool.self) }
    }

    @Test("a named factory receives resolved arguments")
    func namedFactory() async throws {
        var builder = ContainerBuilder(environment: ["PORT": "11311"])
        builder.setParameter("host", "10.0.0.2")
        builder.registerFactory("Config") { arguments in
            Config(servers: try arguments.string(0), port: try arguments.int(1))
        }
        builder.registerFactory("Pool") { arguments in
            Pool(servers: try arguments.service(0, as: Config.self).servers + "|" + (try arguments.string(1)))
        }
        builder.register("config", factory: "Config", arguments: ["%host%:%env(PORT)%", "%env(int:PORT)%"])
        builder.register(
            "pool",
            factory: "Pool",
            arguments: [.service("config"), .expression("service('config').port + 1")]
        )
        let container = try builder.build()
        #expect(try await container.get("pool", as: Pool.self).servers == "10.0.0.2:11311|11312")
    }
}
