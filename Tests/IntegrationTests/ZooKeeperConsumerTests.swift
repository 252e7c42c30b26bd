// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconMemcached
import BeaconPostgres
import BeaconTesting
import BeaconZooKeeper
import Foundation
import InMemoryLogging
import Testing

/// The consumers that follow a discovery source (the dynamic memcached pool, the PostgreSQL factory and pool), with
/// ZooKeeper as the source: the same code as over etcd, a different client.
@Suite("Consumers over ZooKeeper", .requiresServers, .timeLimit(.minutes(2)))
struct ZooKeeperConsumerTests {
    @Test("a DynamicMemcachedPool follows a ZooKeeper prefix: a server node added or removed rebuilds the pool")
    func memcachedPool() async throws {
        let endpoints = try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
        try #require(endpoints.count >= 3)
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("memcached")
        let prefix = "\(root)/memcached/servers/"
        try await zookeeper.put(prefix + "a", endpoints[0].description)
        let instance = ServiceInstance(service: "memcached", id: "b", endpoint: endpoints[1])
        try await zookeeper.put(prefix + "b", bytes: instance.encodedValue())
        let dynamic = DynamicMemcachedPool(
            source: zookeeper,
            servers: .prefix(prefix),
            configuration: DynamicMemcachedPool.Configuration(retryDelay: .milliseconds(100))
        )
        let key = "beacon-tests:zookeeper:\(UUID().uuidString)"
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await dynamic.run() }
            defer { group.cancelAll() }
            await dynamic.waitForUpdate(after: 0)
            #expect(dynamic.currentPool?.servers == Array(endpoints[0...1]))
            try await dynamic.set(key, value: [1])
            #expect(try await dynamic.get(key) == [1])

            // A third server's node appears: a new pool over three servers.
            let beforeJoin = dynamic.generation
            try await zookeeper.put(prefix + "c", endpoints[2].description)
            #expect(try await eventually { dynamic.generation > beforeJoin })
            #expect(dynamic.currentPool?.servers == Array(endpoints[0...2]))

            // The first server's node goes: a new pool without it, which serves reads and writes.
            let beforeLeave = dynamic.generation
            try await zookeeper.delete(prefix + "a")
            #expect(try await eventually { dynamic.generation > beforeLeave })
            #expect(dynamic.currentPool?.servers == Array(endpoints[1...2]))
            try await dynamic.set(key, value: [2])
            #expect(try await dynamic.get(key) == [2])
            _ = try await dynamic.delete(key)
        }
        // run() ended: the pool is closed.
        #expect(dynamic.currentPool == nil)
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }

    @Test("a PostgreSQL pool follows a ZooKeeper key: a changed value is used by the next connection, no attempt fails")
    func postgresFollowsKey() async throws {
        // Cluster B only: the failover suite takes cluster A's database away while it runs.
        let first = try PostgresServers.value(cluster: "B").replacingOccurrences(
            of: "beacon-tests",
            with: "beacon-zk-1"
        )
        let second = try PostgresServers.value(cluster: "B").replacingOccurrences(
            of: "beacon-tests",
            with: "beacon-zk-2"
        )
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("postgres")
        let key = "\(root)/db/main"
        try await zookeeper.put(key, first)
        let (logger, logs) = PostgresServers.recordingLogger()
        let factory = PostgresConnectionFactory(
            source: CachingSource(zookeeper, configuration: .init(ttl: .seconds(600))),
            location: .key(key),
            logger: logger
        )
        let pool = PostgresConnectionPool(factory: factory, logger: logger)
        func applicationName() async throws -> String {
            try await pool.withConnection { connection in
                try await connection.query("SELECT current_setting('application_name')")[0].decode(
                    String.self,
                    column: 0
                )
            }
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            #expect(try await applicationName() == "beacon-zk-1")
            #expect(pool.idleCount == 1)

            // The key changes in ZooKeeper: the watch drops the idle connection, and the next one uses the new value,
            // long before the cache's ten minutes.
            try await zookeeper.put(key, second)
            #expect(try await eventually { try await applicationName() == "beacon-zk-2" })
            #expect(logs.entries.contains { "\($0.message)" == "postgres location changed" })
            #expect(PostgresServers.failedAttempts(logs) == 0)
        }
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }
}
