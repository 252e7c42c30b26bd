// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import BeaconTesting
import Foundation
import Testing

/// The relocation story: discovery points at cluster A (cached for 10 minutes), A goes away and discovery is changed
/// to B; the next `makeConnection()` and the next `withConnection` succeed on B after one failed attempt, long before
/// the TTL.
///
/// Serialized, and the only Postgres suite that touches the `beacon` database on A: one test takes it away from the
/// clients (connections terminated, new ones refused) and gives it back; the other really stops `postgres-a` and
/// restarts it (`LibPQTests`, the only other user of `postgres-a`, retries its connection while A restarts).
@Suite("BeaconPostgres failover", .requiresServers, .serialized, .timeLimit(.minutes(1)))
struct PostgresFailoverTests {
    /// Makes the `beacon` database on A refuse new connections and terminates the open ones, as a stopped server
    /// looks to its clients; or gives it back.
    static func setDatabaseOnA(available: Bool) async throws {
        let admin = try await PostgresServers.superuserOnA(logger: PostgresServers.quietLogger)
        defer { admin.close() }
        _ = try await admin.query("ALTER DATABASE beacon WITH ALLOW_CONNECTIONS \(available ? "true" : "false")")
        if !available {
            _ = try await admin.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                ["beacon"]
            )
            // pg_terminate_backend only signals; wait until the backends have gone, as `pg_ctl stop` does.
            while try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", ["beacon"])[0]
                .decode(Int.self, column: 0) > 0
            {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    @Test("relocation: A's database goes away, discovery moves to B, factory and pool follow at once")
    func relocation() async throws {
        try await self.relocate {
            try await Self.setDatabaseOnA(available: false)
        } restore: {
            try await Self.setDatabaseOnA(available: true)
        }
    }

    @Test("relocation: A is stopped, discovery moves to B, factory and pool follow at once")
    func relocationWithStoppedServer() async throws {
        try await self.relocate {
            try await TestServers.runInBackground("stop", "--keep-data", "postgres-a")
        } restore: {
            try await TestServers.runInBackground("start", "postgres-a")
        }
    }

    /// The acceptance scenario, with `takeAway` making A unusable and `restore` undoing it (run even on failure).
    func relocate(
        takeAway: () async throws -> Void,
        restore: () async throws -> Void
    ) async throws {
        let key = "/db/main"
        let discovery = StaticSource([key: try PostgresServers.value(cluster: "A")])
        let cacheConfiguration = TTLCacheConfiguration(ttl: .seconds(600))
        let (factoryLogger, factoryLogs) = PostgresServers.recordingLogger()
        let factory = PostgresConnectionFactory(
            source: CachingSource(discovery, configuration: cacheConfiguration),
            location: .key(key),
            logger: factoryLogger
        )
        // The pool has its own cache and factory, so that it meets the stale location on its own.
        let (poolLogger, poolLogs) = PostgresServers.recordingLogger()
        let pool = PostgresConnectionPool(
            factory: PostgresConnectionFactory(
                source: CachingSource(discovery, configuration: cacheConfiguration),
                location: .key(key),
                logger: poolLogger
            ),
            logger: poolLogger
        )
        defer { pool.close() }
        let a = try PostgresServers.endpoint(cluster: "A")
        let b = try PostgresServers.endpoint(cluster: "B")

        // The app queries A, through the factory and through the pool (which keeps an idle connection to A).
        let first = try await factory.makeConnection()
        #expect(first.endpoint == a)
        #expect(try await first.query("SELECT 1")[0].decode(Int.self, column: 0) == 1)
        first.close()
        #expect(try await pool.withConnection { $0.endpoint } == a)
        #expect(pool.idleCount == 1)

        try await takeAway()
        do {
            discovery.set(key, to: try PostgresServers.value(cluster: "B"))

            let moved = try await factory.makeConnection()
            defer { moved.close() }
            #expect(moved.endpoint == b)
            #expect(try await moved.query("SELECT current_database()")[0].decode(String.self, column: 0) == "beacon")
            #expect(PostgresServers.failedAttempts(factoryLogs) == 1)

            let pooled = try await pool.withConnection { connection in
                _ = try await connection.query("SELECT 1")
                return connection.endpoint
            }
            #expect(pooled == b)
            #expect(PostgresServers.failedAttempts(poolLogs) == 1)
        } catch {
            try await restore()
            throw error
        }
        try await restore()
    }
}
