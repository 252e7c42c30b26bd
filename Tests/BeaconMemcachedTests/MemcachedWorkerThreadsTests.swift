// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Dispatch
import Foundation
import Glibc
import Logging
import Testing

/// Who starts and stops the worker threads of the async API: a pool's own, a group shared among pools, and the one
/// group a dynamic pool hands to every pool it builds. Pools connect lazily and no operation here reaches a server.
@Suite("Memcached worker threads", .timeLimit(.minutes(1)))
struct MemcachedWorkerThreadsTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let prefix = "/services/memcached/"

    @Test("a pool's own threads stop when it is closed, and when it is dropped without close()")
    func ownThreads() throws {
        let closed = try MemcachedPool(servers: [Endpoint(host: "10.0.0.1", port: 11211)], logger: Self.logger)
        let closedWorkers = closed.workerThreads
        #expect(closedWorkers.count == 4)
        #expect(!closedWorkers.isClosed)
        closed.close()
        #expect(closedWorkers.isClosed)

        var dropped: MemcachedPool? = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: .init(maxConnections: 2),
            logger: Self.logger
        )
        let droppedWorkers = try #require(dropped?.workerThreads)
        #expect(droppedWorkers.count == 2)
        dropped = nil
        #expect(droppedWorkers.isClosed)
    }

    @Test("pools share an application's group without closing it; a closed group refuses their operations")
    func sharedGroup() async throws {
        let shared = MemcachedWorkerThreads(count: 2)
        let first = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: .init(workerThreads: shared),
            logger: Self.logger
        )
        let second = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.2", port: 11211)],
            configuration: .init(workerThreads: shared),
            logger: Self.logger
        )
        #expect(first.workerThreads === shared && second.workerThreads === shared)
        first.close()
        #expect(!shared.isClosed)
        #expect(try await second.withConnection { try $0.server(forKey: "k") }.port == 11211)

        shared.close()
        let error = await #expect(throws: MemcachedError.self) {
            try await second.withConnection { try $0.server(forKey: "k") }
        }
        #expect(error?.code == .closed)
        // The refused operation ended its lease: the pool still closes and releases its handles.
        second.close()
        #expect(second.isReleased)
    }

    @Test("a task preferring the pool's threads runs its operations on the thread it is on, and stays there")
    func preferringTaskRunsInPlace() async throws {
        let pool = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: .init(maxConnections: 2),
            logger: Self.logger
        )
        defer { pool.close() }
        let threads = try await withTaskExecutorPreference(pool.workerThreads) {
            try await Self.threadsAroundAnOperation(pool)
        }
        #expect(threads.before == threads.inside && threads.inside == threads.after)
        #expect(threads.insideName == "beacon-memcache")
    }

    @Test("a task on the global executor runs the operation on a worker thread and comes back")
    func globalTaskMovesAndComesBack() async throws {
        let pool = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: .init(maxConnections: 2),
            logger: Self.logger
        )
        defer { pool.close() }
        let threads = try await Self.threadsAroundAnOperation(pool)
        #expect(threads.insideName == "beacon-memcache")
        #expect(threads.before != threads.inside && threads.after != threads.inside)
    }

    @Test("work that prefers a closed group runs on the global executor; the pool's operations throw closed")
    func closedGroupStillRunsPreferringWork() async throws {
        let shared = MemcachedWorkerThreads(count: 1)
        let pool = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: .init(workerThreads: shared),
            logger: Self.logger
        )
        defer { pool.close() }
        shared.close()
        let outcome = await withTaskExecutorPreference(shared) {
            await Self.yieldThenTry { try await pool.withConnection { try $0.server(forKey: "k") } }
        }
        #expect(outcome.yielded)
        #expect((outcome.error as? MemcachedError)?.code == .closed)
    }

    /// The threads a task is on before, inside and after an `async` operation of the pool.
    @concurrent
    private static func threadsAroundAnOperation(
        _ pool: MemcachedPool
    ) async throws -> (before: pthread_t, inside: pthread_t, insideName: String, after: pthread_t) {
        let before = pthread_self()
        let (inside, name) = try await pool.withConnection { _ in (pthread_self(), Self.currentThreadName()) }
        return (before, inside, name, pthread_self())
    }

    /// Yields (which needs an executor to resume on), then runs `operation`, returning its error.
    @concurrent
    private static func yieldThenTry(
        _ operation: @Sendable () async throws -> Endpoint
    ) async -> (yielded: Bool, error: (any Error)?) {
        await Task.yield()
        do {
            _ = try await operation()
            return (true, nil)
        } catch {
            return (true, error)
        }
    }

    /// The calling thread's name, from `/proc/thread-self/comm`.
    private static func currentThreadName() -> String {
        let text = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a dynamic pool hands one group to every pool it builds and stops it when run() ends")
    func dynamicPoolKeepsItsThreads() async throws {
        let source = StaticSource([Self.prefix + "a": "10.0.0.1:11211"])
        let dynamic = DynamicMemcachedPool(
            source: source,
            servers: .prefix(Self.prefix),
            configuration: .init(pool: .init(maxConnections: 3)),
            logger: Self.logger
        )
        #expect(dynamic.workerThreads == nil)
        let workers = try await withThrowingTaskGroup { group in
            group.addTask { await dynamic.run() }
            defer { group.cancelAll() }
            while dynamic.generation < 1 { await dynamic.waitForUpdate(after: dynamic.updateCount) }
            let workers = try #require(dynamic.workerThreads)
            #expect(workers.count == 3)
            #expect(dynamic.currentPool?.workerThreads === workers)
            for (index, host) in ["10.0.0.2", "10.0.0.3", "10.0.0.4"].enumerated() {
                source.set(Self.prefix + "a", to: "\(host):11211")
                while dynamic.generation < index + 2 { await dynamic.waitForUpdate(after: dynamic.updateCount) }
                #expect(dynamic.currentPool?.workerThreads === workers)
                #expect(!workers.isClosed)
            }
            return workers
        }
        #expect(workers.isClosed)
        #expect(dynamic.workerThreads == nil)
    }

    @Test("a dynamic pool given the application's group uses it for every pool and leaves it open")
    func dynamicPoolWithSharedGroup() async throws {
        let shared = MemcachedWorkerThreads(count: 2)
        defer { shared.close() }
        let dynamic = DynamicMemcachedPool(
            source: StaticSource(),
            servers: .prefix(Self.prefix),
            configuration: .init(pool: .init(workerThreads: shared)),
            logger: Self.logger
        )
        try dynamic.update(servers: [Endpoint(host: "10.0.0.1", port: 11211)])
        #expect(dynamic.currentPool?.workerThreads === shared)
        try dynamic.update(servers: [Endpoint(host: "10.0.0.2", port: 11211)])
        #expect(dynamic.currentPool?.workerThreads === shared)
        #expect(dynamic.workerThreads === shared)
        dynamic.close()
        #expect(!shared.isClosed)
    }

    @Test("operations queued on an old pool still run after a rebuild")
    func queuedOnOldPoolRun() async throws {
        let dynamic = DynamicMemcachedPool(
            source: StaticSource(),
            servers: .prefix(Self.prefix),
            configuration: .init(pool: .init(maxConnections: 1)),
            logger: Self.logger
        )
        defer { dynamic.close() }
        try dynamic.update(servers: [Endpoint(host: "10.0.0.1", port: 11211)])
        let old = try #require(dynamic.currentPool)
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let release = DispatchSemaphore(value: 0)
        // The only worker thread is held by the first operation; the second waits in the queue behind it.
        async let holding = dynamic.withConnection { connection in
            startedContinuation.yield()
            release.wait()
            return try connection.server(forKey: "k")
        }
        for await _ in started { break }
        async let queued = dynamic.withConnection { try $0.server(forKey: "k") }
        let workers = try #require(dynamic.workerThreads)
        while workers.queuedJobs < 1 { try await Task.sleep(for: .milliseconds(1)) }

        try dynamic.update(servers: [Endpoint(host: "10.0.0.2", port: 11211)])
        #expect(old.isClosed && !old.isReleased)
        release.signal()
        #expect(try await holding == Endpoint(host: "10.0.0.1", port: 11211))
        #expect(try await queued == Endpoint(host: "10.0.0.1", port: 11211))
        #expect(old.isReleased)
        #expect(try await dynamic.withConnection { try $0.server(forKey: "k") }.host == "10.0.0.2")
    }

    @Test("a dynamic pool dropped without close() stops its threads")
    func droppedDynamicPool() throws {
        var dynamic: DynamicMemcachedPool? = DynamicMemcachedPool(
            source: StaticSource(),
            servers: .prefix(Self.prefix),
            logger: Self.logger
        )
        try dynamic?.update(servers: [Endpoint(host: "10.0.0.1", port: 11211)])
        let workers = try #require(dynamic?.workerThreads)
        dynamic = nil
        #expect(workers.isClosed)
    }
}
