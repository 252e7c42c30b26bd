// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconContainer

@Suite("Concurrent first gets")
struct ConcurrencyTests {
    struct FactoryFailure: Error, Equatable {
        let attempt: Int
    }

    /// Waits (without a clock) until `count` callers wait for the running construction of `id`.
    static func waitForWaiters(_ count: Int, of id: String, in container: Container) async {
        while container.waiterCount(of: id) < count {
            await Task.yield()
        }
    }

    @Test("1,000 concurrent first gets construct the service once")
    func oneConstruction() async throws {
        var builder = ContainerBuilder()
        let gate = Gate()
        let constructions = Counter()
        builder.register("pool", as: Pool.self) { _ in
            constructions.increment()
            await gate.wait()
            return Pool(servers: "a")
        }
        let container = try builder.build()
        let instances = try await withThrowingTaskGroup(of: Pool.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await container.get("pool", as: Pool.self) }
            }
            await gate.arrivals(1)
            await Self.waitForWaiters(999, of: "pool", in: container)
            gate.open()
            var instances: [Pool] = []
            for try await instance in group {
                instances.append(instance)
            }
            return instances
        }
        #expect(instances.count == 1000)
        #expect(instances.allSatisfy { $0 === instances[0] })
        #expect(constructions.value == 1)
    }

    @Test("a throwing factory: every waiter gets the error, and the next get builds")
    func failureIsNotCached() async throws {
        var builder = ContainerBuilder()
        let gate = Gate()
        let attempts = Counter()
        builder.register("pool", as: Pool.self) { _ in
            let attempt = attempts.increment()
            if attempt == 1 {
                await gate.wait()
                throw FactoryFailure(attempt: attempt)
            }
            return Pool(servers: "second")
        }
        let container = try builder.build()
        let failures = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<1000 {
                group.addTask {
                    do {
                        _ = try await container.get("pool", as: Pool.self)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            await gate.arrivals(1)
            await Self.waitForWaiters(999, of: "pool", in: container)
            gate.open()
            var failures: [any Error] = []
            for await failure in group {
                if let failure {
                    failures.append(failure)
                }
            }
            return failures
        }
        #expect(failures.count == 1000)
        #expect(failures.allSatisfy { ($0 as? FactoryFailure) == FactoryFailure(attempt: 1) })
        #expect(try await container.get("pool", as: Pool.self).servers == "second")
        #expect(attempts.value == 2)
    }

    @Test("a factory may suspend while others get different services")
    func independentServices() async throws {
        var builder = ContainerBuilder()
        let gate = Gate()
        builder.register("slow", as: Pool.self) { _ in
            await gate.wait()
            return Pool(servers: "slow")
        }
        builder.register("fast", as: Pool.self) { _ in Pool(servers: "fast") }
        let container = try builder.build()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await container.get("slow", as: Pool.self) }
            await gate.arrivals(1)
            #expect(try await container.get("fast", as: Pool.self).servers == "fast")
            gate.open()
            try await group.waitForAll()
        }
    }
}
