// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconLocks
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// A pool-like service that records when it is closed and whether it was in use then.
final class ClosablePool: ClosableService, Sendable {
    let generation: Int
    private let state = Lock((closes: 0, usersAtClose: -1))
    let users = Lock(0)
    let closedSignal = Gate()

    init(generation: Int) {
        self.generation = generation
    }

    func close() async {
        let users = self.users.withLock { $0 }
        state.withLock { state in
            state.closes += 1
            state.usersAtClose = users
        }
        closedSignal.open()
    }

    var closeCount: Int { state.withLock { $0.closes } }
    var usersAtClose: Int { state.withLock { $0.usersAtClose } }
}

/// A service whose `run()` the container runs; it counts starts and stops.
final class RunningService: Service, Sendable {
    let started = Gate()
    let stopped = Gate()

    func run() async throws {
        started.open()
        try? await gracefulShutdown()
        stopped.open()
    }
}

@Suite("Lifetimes of built instances")
struct LifetimeTests {
    static func fixture(grace: Duration) throws -> (Container, OutsideValue, Counter) {
        let version = OutsideValue("/memcached/", "1")
        let generations = Counter()
        var builder = ContainerBuilder()
        builder.retiredInstanceGracePeriod = grace
        builder.register("pool", as: ClosablePool.self) { resolver in
            try await resolver.recordingInputs {
                _ = version.read()
                return ClosablePool(generation: generations.increment())
            }
        }
        return (try builder.build(), version, generations)
    }

    @Test("a replaced instance is closed exactly once, after its last scoped user")
    func closedAfterLastScopedUser() async throws {
        let (container, version, _) = try Self.fixture(grace: .zero)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await container.run() }
                let inUse = Gate()
                let release = Gate()
                let old = try await container.get("pool", as: ClosablePool.self)
                group.addTask {
                    try await container.withService("pool", as: ClosablePool.self) { pool in
                        pool.users.withLock { $0 += 1 }
                        inUse.open()
                        await release.wait()
                        pool.users.withLock { $0 -= 1 }
                    }
                }
                await inUse.wait()
                version.set("2")
                let fresh = try await container.get("pool", as: ClosablePool.self)
                #expect(fresh.generation == 2)
                // The old instance stays open while its scoped user runs, grace period or not.
                try await Task.sleep(for: .milliseconds(50))
                #expect(old.closeCount == 0)
                release.open()
                await old.closedSignal.wait()
                #expect(old.closeCount == 1)
                #expect(old.usersAtClose == 0)
                #expect(fresh.closeCount == 0)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                // On shutdown the current instance is closed too, and the old one is not closed again.
                #expect(fresh.closeCount == 1)
                #expect(old.closeCount == 1)
            }
        }
    }

    @Test("a replaced instance taken with a plain get stays open for the grace period")
    func gracePeriod() async throws {
        let (container, version, _) = try Self.fixture(grace: .seconds(3600))
        let old = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await container.run() }
            let old = try await container.get("pool", as: ClosablePool.self)
            version.set("2")
            _ = try await container.get("pool", as: ClosablePool.self)
            try await Task.sleep(for: .milliseconds(50))
            #expect(old.closeCount == 0)
            group.cancelAll()
            try await group.waitForAll()
            return old
        }
        // Cancelling run() ends the grace period: everything is closed once.
        #expect(old.closeCount == 1)
    }

    @Test("a scoped use that starts after the instance was replaced gets the new instance")
    func scopedUseAfterReplacement() async throws {
        let (container, version, _) = try Self.fixture(grace: .zero)
        _ = try await container.get("pool", as: ClosablePool.self)
        version.set("2")
        let generation = try await container.withService("pool", as: ClosablePool.self) { $0.generation }
        #expect(generation == 2)
    }

    @Test("run() runs built services and returns only on graceful shutdown, stopping them")
    func runsServices() async throws {
        var builder = ContainerBuilder()
        builder.register("runner", as: RunningService.self) { _ in RunningService() }
        let container = try builder.build()
        let returned = Counter()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await container.run()
                    returned.increment()
                }
                let runner = try await container.get("runner", as: RunningService.self)
                await runner.started.wait()
                try await Task.sleep(for: .milliseconds(20))
                #expect(returned.value == 0)
                trigger.triggerGracefulShutdown()
                try await group.next()
                await runner.stopped.wait()
                #expect(returned.value == 1)
            }
        }
    }

    @Test("run() with nothing to follow waits for cancellation instead of returning")
    func runWaits() async throws {
        let container = try ContainerBuilder().build()
        let returned = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await container.run()
                returned.increment()
            }
            try? await Task.sleep(for: .milliseconds(20))
            #expect(returned.value == 0)
            group.cancelAll()
        }
        #expect(returned.value == 1)
    }
}
