// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconMemcached
import Dispatch
import Logging
import Testing

/// `DynamicMemcachedPool` following a `StaticSource`. Pools connect lazily and these tests do no I/O, so no
/// memcached server is needed.
@Suite("DynamicMemcachedPool", .timeLimit(.minutes(1)))
struct DynamicMemcachedPoolTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let prefix = "/services/memcached/"

    /// Runs `body` while the pool follows its source, then stops following.
    static func following(
        _ pool: DynamicMemcachedPool,
        _ body: @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// Waits until the pool has read at least `count` server lists.
    static func waitForUpdates(_ pool: DynamicMemcachedPool, count: Int) async {
        while pool.updateCount < count {
            await pool.waitForUpdate(after: pool.updateCount)
        }
    }

    @Test("a changed server set swaps the pool; an unchanged re-read does not")
    func swapsOnlyOnChange() async throws {
        let source = StaticSource([
            Self.prefix + "a": "10.0.0.1:11211",
            Self.prefix + "b": "10.0.0.2:11211",
        ])
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        try await Self.following(pool) {
            await Self.waitForUpdates(pool, count: 1)
            #expect(pool.generation == 1)
            let first = try #require(pool.currentPool)
            #expect(first.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11211"])

            // Written again with the same value: a new version, the same servers.
            let seen = pool.updateCount
            source.set(Self.prefix + "a", to: "10.0.0.1:11211")
            await Self.waitForUpdates(pool, count: seen + 1)
            #expect(pool.generation == 1)
            #expect(pool.currentPool === first)
            #expect(!first.isClosed)

            // A third server: a new pool, and the old one is closed.
            source.set(Self.prefix + "c", to: "10.0.0.3:11211?weight=2")
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            let second = try #require(pool.currentPool)
            #expect(second !== first)
            #expect(second.servers.count == 3)
            #expect(second.servers.last?.weight == 2)
            #expect(first.isClosed)
            #expect(first.isReleased)

            // A weight change is a change too.
            source.set(Self.prefix + "c", to: "10.0.0.3:11211?weight=3")
            while pool.generation < 3 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(second.isReleased)
        }
        #expect(pool.currentPool == nil)
    }

    @Test("an operation running during the swap finishes on the old pool, which is released after it")
    func inFlightFinishesOnOldPool() async throws {
        let source = StaticSource([Self.prefix + "a": "10.0.0.1:11211"])
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        try await Self.following(pool) {
            await Self.waitForUpdates(pool, count: 1)
            let old = try #require(pool.currentPool)
            let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
            let release = DispatchSemaphore(value: 0)
            async let operation = pool.withConnection { connection in
                startedContinuation.yield()
                release.wait()
                return try connection.server(forKey: "some-key")
            }
            for await _ in started { break }

            source.set(Self.prefix + "b", to: "10.0.0.2:11211")
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(old.isClosed)
            #expect(!old.isReleased)
            #expect(try pool.server(forKey: "x").port == 11211)

            release.signal()
            let server = try await operation
            #expect(server == Endpoint(host: "10.0.0.1", port: 11211))
            #expect(old.isReleased)
        }
    }

    @Test("a single key holding a comma-separated list, polled")
    func keyPolled() async throws {
        let source = StaticSource(["/config/memcached": "cache-a:21211,cache-b"])
        let pool = DynamicMemcachedPool(
            source: source,
            servers: .key("/config/memcached"),
            configuration: .init(refresh: .poll(every: .milliseconds(5))),
            logger: Self.logger
        )
        try await Self.following(pool) {
            await Self.waitForUpdates(pool, count: 1)
            #expect(pool.currentPool?.servers.map(\.description) == ["cache-a:21211", "cache-b:11211"])
            let seen = pool.updateCount
            await Self.waitForUpdates(pool, count: seen + 3)
            #expect(pool.generation == 1)
            source.set("/config/memcached", to: "cache-a:21211")
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["cache-a:21211"])
        }
    }

    @Test("before the first list, and for an unparsable or empty one, the pool says why")
    func noServers() async throws {
        let source = StaticSource()
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        let error = #expect(throws: MemcachedError.self) { try pool.server(forKey: "k") }
        #expect(error?.code == .closed)
        #expect(try pool.update(servers: [Endpoint(host: "10.0.0.9", port: 11211)]))
        #expect(try pool.update(servers: [Endpoint(host: "10.0.0.9", port: 11211)]) == false)
        // A list consistent hashing cannot take (libmemcached would abort) is refused; the current pool stays.
        let tooMany = (0..<101).map { Endpoint(host: "127.0.0.1", port: 41_000 + $0) }
        let refused = #expect(throws: MemcachedError.self) { try pool.update(servers: tooMany) }
        #expect(refused?.code == .invalidConfiguration)
        #expect(try pool.server(forKey: "k").host == "10.0.0.9")
        try await Self.following(pool) {
            // An empty list keeps the current pool.
            await Self.waitForUpdates(pool, count: 3)
            let server = try pool.server(forKey: "k")
            #expect(server.host == "10.0.0.9")
        }
    }
}

/// A source whose watch always fails, as a backend without watches would.
struct SourceWithoutWatch: DiscoverySource {
    let base: StaticSource

    func get(_ key: String) async throws -> KeyValue? { await self.base.get(key) }

    func list(prefix: String) async throws -> [KeyValue] { await self.base.list(prefix: prefix) }

    func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch { { throw BeaconError(.unavailable, "this source cannot watch") } }
    }
}

extension DynamicMemcachedPoolTests {
    @Test("a source that cannot watch is read after each failed watch")
    func fallsBackToReading() async throws {
        let base = StaticSource([Self.prefix + "a": "10.0.0.1:11211"])
        let pool = DynamicMemcachedPool(
            source: SourceWithoutWatch(base: base),
            servers: .prefix(Self.prefix),
            configuration: .init(retryDelay: .milliseconds(5)),
            logger: Self.logger
        )
        try await Self.following(pool) {
            await Self.waitForUpdates(pool, count: 1)
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211"])
            base.set(Self.prefix + "b", to: "10.0.0.2:11211")
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.count == 2)
        }
    }
}

extension DynamicMemcachedPoolTests {
    @Test("a Patroni leader location is refused with a clear error; run() waits for the end as any service does")
    func patroniLeaderRefused() async throws {
        let source = StaticSource(["/service/beacon/leader": "n1"])
        let pool = DynamicMemcachedPool(
            source: source,
            servers: .patroniLeader(scope: "beacon"),
            logger: Self.logger
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            try? await Task.sleep(for: .milliseconds(20))
            group.cancelAll()
        }
        let error = #expect(throws: MemcachedError.self) { try pool.server(forKey: "k") }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("patroni leader /service/beacon/") == true)
        await #expect(throws: MemcachedError.self) { try await pool.withConnection { _ in 1 } }
    }
}

extension DynamicMemcachedPoolTests {
    @Test("under a prefix, registrations' ServiceInstance JSON and plain endpoint text are both servers")
    func bothValueShapes() async throws {
        let registered = ServiceInstance(
            service: "memcached",
            id: "b",
            endpoint: Endpoint(host: "10.0.0.2", port: 11311)
        )
        let source = StaticSource([Self.prefix + "a": "10.0.0.1"])
        source.set(Self.prefix + "b", bytes: registered.encodedValue())
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        try await Self.following(pool) {
            while pool.currentPool?.servers.count != 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11311"])
        }
    }
}

extension DynamicMemcachedPoolTests {
    static func memcached(_ id: String, _ host: String, port: Int = 11211) -> ServiceInstance {
        ServiceInstance(service: "memcached", id: id, endpoint: Endpoint(host: host, port: port))
    }

    @Test("a service location follows the registry: each registration and withdrawal rebuilds the server list")
    func followsRegisteredService() async throws {
        let registry = StaticSource()
        let first = try await registry.register(Self.memcached("m1", "10.0.0.1"), ttl: .seconds(10))
        let pool = DynamicMemcachedPool(source: registry, servers: .service("memcached"), logger: Self.logger)
        try await Self.following(pool) {
            while pool.generation < 1 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211"])

            let second = try await registry.register(Self.memcached("m2", "10.0.0.2", port: 11212), ttl: .seconds(10))
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11212"])
            #expect(try pool.server(forKey: "k").host.hasPrefix("10.0.0."))

            await first.cancel()
            while pool.generation < 3 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.2:11212"])

            // The last instance leaves: an empty list keeps the current pool, as for a key or a prefix.
            let seen = pool.updateCount
            await second.cancel()
            await Self.waitForUpdates(pool, count: seen + 1)
            #expect(pool.generation == 3)
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.2:11212"])
        }
    }

    @Test("a service read through a CachingSource is read from the registry it wraps, polled as well as watched")
    func serviceThroughCache() async throws {
        let registry = StaticSource()
        _ = try await registry.register(Self.memcached("m1", "10.0.0.1"), ttl: .seconds(10))
        let cache = CachingSource(registry)
        let pool = DynamicMemcachedPool(
            source: cache,
            servers: .service("memcached"),
            configuration: .init(refresh: .poll(every: .milliseconds(5))),
            logger: Self.logger
        )
        try await Self.following(pool) {
            while pool.generation < 1 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211"])
            _ = try await registry.register(Self.memcached("m2", "10.0.0.2"), ttl: .seconds(10))
            while pool.generation < 2 { await pool.waitForUpdate(after: pool.updateCount) }
            #expect(pool.currentPool?.servers.count == 2)
        }
    }

    @Test("a service on a source that is not a registry is refused with a clear error; run() waits for the end")
    func serviceOnNonRegistryRefused() async throws {
        let pool = DynamicMemcachedPool(
            source: EnvironmentSource(environment: [:]),
            servers: .service("memcached"),
            logger: Self.logger
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            try? await Task.sleep(for: .milliseconds(20))
            group.cancelAll()
        }
        let error = #expect(throws: MemcachedError.self) { try pool.server(forKey: "k") }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("the source is not a service registry: EnvironmentSource") == true)
    }
}
