// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import BeaconLocks
import Testing

/// An outside value that services read through a ``ContainerInput``, as the discovery integration serves keys.
final class OutsideValue: Sendable {
    let input: ContainerInput
    private let current: Lock<String>

    init(_ name: String, _ value: String) {
        self.input = ContainerInput(name)
        self.current = Lock(value)
    }

    func read() -> String {
        input.recordRead()
        return current.withLock { $0 }
    }

    func set(_ value: String) {
        current.withLock { $0 = value }
        input.changed()
    }
}

/// An expression object whose `value()` must be loaded before it answers, as a discovery read is.
final class LoadingObject: ExpressionObject {
    let className = "Loading"
    let loads = Counter()
    private let loaded = Lock<String?>(nil)
    let value: String

    init(_ value: String) {
        self.value = value
    }

    func hasMethod(named lowercasedName: String) -> Bool { lowercasedName == "value" }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        if let loaded = loaded.withLock({ $0 }) {
            return .string(loaded)
        }
        throw ContainerLoadRequest("value") { [self] in
            try await Task.sleep(for: .milliseconds(1))
            self.loads.increment()
            self.loaded.withLock { $0 = self.value }
        }
    }
}

@Suite("Services built from outside inputs")
struct InputTests {
    @Test("a service that read an input is rebuilt when it changes, without a refreshable scope")
    func rebuiltOnChange() async throws {
        let host = OutsideValue("/db/host", "10.0.0.1")
        let unrelated = OutsideValue("/other", "x")
        var builder = ContainerBuilder()
        let database = builder.register("database", as: Config.self) { resolver in
            try await resolver.recordingInputs { Config(servers: host.read()) }
        }
        let other = builder.register("other", as: Config.self) { resolver in
            try await resolver.recordingInputs { Config(servers: unrelated.read()) }
        }
        let handler = builder.register("handler", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(database).servers)
        }
        let container = try builder.build()

        let first = try await container.get(handler)
        let firstOther = try await container.get(other)
        #expect(first.servers == "10.0.0.1")
        #expect(host.input.readerCount == 1)

        unrelated.set("y")
        #expect(try await container.get(handler) === first)
        #expect(container.constructionCount(of: "database") == 1)

        host.set("10.0.0.2")
        let second = try await container.get(handler)
        #expect(second !== first)
        #expect(second.servers == "10.0.0.2")
        #expect(container.constructionCount(of: "database") == 2)
        #expect(container.constructionCount(of: "handler") == 2)
        #expect(try await container.get(other) !== firstOther)
        #expect(container.constructionCount(of: "other") == 2)
    }

    @Test("reading an input outside a construction, or in a code factory outside recordingInputs, records nothing")
    func readOutside() async throws {
        let host = OutsideValue("/db/host", "10.0.0.1")
        #expect(host.input.recordRead() == false)
        var builder = ContainerBuilder()
        builder.register("untracked", as: Config.self) { _ in Config(servers: host.read()) }
        let container = try builder.build()
        let first = try await container.get("untracked", as: Config.self)
        #expect(host.input.readerCount == 0)
        host.set("10.0.0.2")
        #expect(try await container.get("untracked", as: Config.self) === first)
    }

    @Test("an input read by an expression's method records the service whose definition holds the expression")
    func readInExpression() async throws {
        final class Reader: ExpressionObject {
            let className = "Reader"
            let value: OutsideValue
            init(_ value: OutsideValue) { self.value = value }
            func hasMethod(named lowercasedName: String) -> Bool { true }
            func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
                .string(value.read())
            }
        }
        let host = OutsideValue("/db/host", "10.0.0.1")
        var builder = ContainerBuilder()
        builder.register("reader", as: Reader.self) { _ in Reader(host) }
        builder.registerFactory("Pool") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register("plain", factory: "Pool", arguments: [.expression("service('reader').host()")])
        builder.register("with.variable", factory: "Pool", arguments: [.expression("container.get('reader').host()")])
        let container = try builder.build()
        #expect(try await container.get("plain", as: Pool.self).servers == "10.0.0.1")
        #expect(try await container.get("with.variable", as: Pool.self).servers == "10.0.0.1")
        #expect(host.input.readerCount == 2)
        host.set("10.0.0.2")
        #expect(try await container.get("plain", as: Pool.self).servers == "10.0.0.2")
        #expect(try await container.get("with.variable", as: Pool.self).servers == "10.0.0.2")
        #expect(container.constructionCount(of: "reader") == 1)
    }

    @Test("a change during the construction keeps its result from being stored")
    func changeDuringConstruction() async throws {
        let host = OutsideValue("/db/host", "10.0.0.1")
        let gate = Gate()
        var builder = ContainerBuilder()
        let database = builder.register("database", as: Config.self) { resolver in
            try await resolver.recordingInputs {
                let value = host.read()
                await gate.wait()
                return Config(servers: value)
            }
        }
        let container = try builder.build()
        async let first = container.get(database)
        await gate.arrivals(1)
        host.set("10.0.0.2")
        gate.open()
        #expect(try await first.servers == "10.0.0.1")
        #expect(try await container.get(database).servers == "10.0.0.2")
    }

    @Test("1,000 concurrent gets while the input changes all succeed with whole instances")
    func concurrentGetsDuringRebuild() async throws {
        let host = OutsideValue("/db/host", "v0")
        var builder = ContainerBuilder()
        let database = builder.register("database", as: Config.self) { resolver in
            try await resolver.recordingInputs {
                let value = host.read()
                await Task.yield()
                return Config(servers: value)
            }
        }
        let handler = builder.register("handler", as: Pool.self) { resolver in
            Pool(servers: try await resolver.get(database).servers)
        }
        let container = try builder.build()
        _ = try await container.get(handler)
        let seen = try await withThrowingTaskGroup(of: String.self, returning: Set<String>.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    if index % 100 == 0 {
                        host.set("v\(index / 100 + 1)")
                    }
                    return try await container.get(handler).servers
                }
            }
            var seen = Set<String>()
            for try await servers in group {
                seen.insert(servers)
            }
            return seen
        }
        #expect(seen.allSatisfy { $0.hasPrefix("v") })
        #expect(try await container.get(handler).servers == "v10")
    }

    @Test("an expression method that must load first is evaluated again after the load")
    func loadRequest() async throws {
        let object = LoadingObject("10.0.0.9:11211")
        var builder = ContainerBuilder()
        builder.register("loader", as: LoadingObject.self) { _ in object }
        builder.registerFactory("Pool") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register("pool", factory: "Pool", arguments: [.expression("service('loader').value()")])
        builder.register("pool.upper", factory: "Pool", arguments: [.expression("'x' ~ service('loader').value()")])
        let container = try builder.build()
        #expect(try await container.get("pool", as: Pool.self).servers == "10.0.0.9:11211")
        #expect(try await container.get("pool.upper", as: Pool.self).servers == "x10.0.0.9:11211")
        #expect(object.loads.value == 1)
    }

    @Test("a load request that never settles fails with an error naming the expression")
    func endlessLoads() async throws {
        final class Endless: ExpressionObject {
            let className = "Endless"
            func hasMethod(named lowercasedName: String) -> Bool { true }
            func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
                throw ContainerLoadRequest("nothing") {}
            }
        }
        var builder = ContainerBuilder()
        builder.register("endless", as: Endless.self) { _ in Endless() }
        builder.registerFactory("Pool") { arguments in Pool(servers: try arguments.string(0)) }
        builder.register("pool", factory: "Pool", arguments: [.expression("service('endless').value()")])
        let container = try builder.build()
        let error = await #expect(throws: ContainerError.self) { try await container.get("pool", as: Pool.self) }
        #expect(error?.message.contains("service('endless').value()") == true)
    }
}
