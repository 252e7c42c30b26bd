// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Synchronization
import Testing

/// Connections through discovery to the SCRAM cluster B: queries, types, errors, busy, close and cancellation.
@Suite("BeaconPostgres queries", .requiresServers, .timeLimit(.minutes(1)))
struct PostgresQueryTests {
    let logger = PostgresServers.quietLogger

    func factory() throws -> PostgresConnectionFactory {
        let source = CachingSource(StaticSource(["/db/main": try PostgresServers.value(cluster: "B")]))
        return PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: self.logger)
    }

    @Test("happy path: connect through discovery and read every supported type and NULL")
    func happyPath() async throws {
        let connection = try await self.factory().makeConnection()
        defer { connection.close() }
        #expect(connection.endpoint == (try PostgresServers.endpoint(cluster: "B")))
        let rows = try await connection.query(
            "SELECT $1::text AS t, $2::int8 AS i, $3::float8 AS f, $4::bool AS b, $5::bytea AS y, $6::text AS n, "
                + "$7::int4 AS small, 'NaN'::float8 AS nan",
            ["héllo 'quoted'; --", 42, 2.5, true, .bytes([0, 1, 0xFE, 0xFF]), nil, -7]
        )
        #expect(rows.count == 1)
        let row = rows[0]
        #expect(try row.decode(String.self, column: "t") == "héllo 'quoted'; --")
        #expect(try row.decode(Int.self, column: "i") == 42)
        #expect(try row.decode(Double.self, column: "f") == 2.5)
        #expect(try row.decode(Bool.self, column: "b"))
        #expect(try row.decode([UInt8].self, column: "y") == [0, 1, 0xFE, 0xFF])
        #expect(try row.decode(String?.self, column: "n") == nil)
        #expect(row[5].isNull)
        #expect(try row.decode(Int32.self, column: "small") == -7)
        #expect(try row.decode(Double.self, column: "nan").isNaN)
        #expect(rows.columns.map(\.name) == ["t", "i", "f", "b", "y", "n", "small", "nan"])
    }

    @Test("parameters are values, never SQL: a table round trip with affected-row counts")
    func roundTrip() async throws {
        let connection = try await self.factory().makeConnection()
        defer { connection.close() }
        _ = try await connection.query("CREATE TEMP TABLE items (id int8 PRIMARY KEY, name text, price float8)")
        let inserted = try await connection.query(
            "INSERT INTO items VALUES ($1, $2, $3), ($4, $5, $6)",
            [1, "Robert'); DROP TABLE items;--", 9.5, 2, nil, .null]
        )
        #expect(inserted.rowsAffected == 2)
        #expect(inserted.command == "INSERT 0 2")
        let rows = try await connection.query("SELECT id, name, price FROM items ORDER BY id")
        #expect(try rows.map { try $0.decode(Int.self, column: 0) } == [1, 2])
        #expect(try rows[0].decode(String.self, column: "name") == "Robert'); DROP TABLE items;--")
        #expect(try rows[1].decode(Double?.self, column: "price") == nil)
    }

    @Test("a server error carries SQLSTATE, message and endpoint, and the connection stays usable")
    func serverError() async throws {
        let connection = try await self.factory().makeConnection()
        defer { connection.close() }
        let error = await #expect(throws: PostgresError.self) {
            try await connection.query("SELECT * FROM no_such_table WHERE id = $1", [1])
        }
        #expect(error?.code == .queryFailed)
        #expect(error?.sqlState == .undefinedTable)
        #expect(error?.message.contains("no_such_table") == true)
        #expect(error?.endpoint == (try PostgresServers.endpoint(cluster: "B")))
        let divide = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1 / $1::int", [0]) }
        #expect(divide?.sqlState == .divisionByZero)
        #expect(try await connection.query("SELECT 1")[0].decode(Int.self, column: 0) == 1)
    }

    @Test("one query at a time; close() interrupts a running query; closing twice is harmless")
    func busyAndClose() async throws {
        let connection = try await self.factory().makeConnection()
        let sleeper = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(200))
        let busy = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
        #expect(busy?.code == .connectionBusy)
        connection.close()
        let closed = await #expect(throws: PostgresError.self) { try await sleeper.value }
        #expect(closed?.code == .connectionClosed)
        #expect(connection.isClosed)
        connection.close()
        let after = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
        #expect(after?.code == .connectionClosed)
    }

    @Test("cancelling a query ends it at once and closes the connection")
    func cancelQuery() async throws {
        let connection = try await self.factory().makeConnection()
        let sleeper = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(200))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(connection.isClosed)
    }

    @Test("the pool bounds concurrent connections and reuses idle ones")
    func poolBound() async throws {
        let pool = PostgresConnectionPool(
            factory: try self.factory(),
            configuration: .init(maxConnections: 3),
            logger: self.logger
        )
        defer { pool.close() }
        let active = Gauge()
        let peak = Gauge()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<9 {
                group.addTask {
                    try await pool.withConnection { connection in
                        let now = active.value.add(1, ordering: .relaxed).newValue
                        _ = peak.value.max(now, ordering: .relaxed)
                        let rows = try await connection.query("SELECT $1::int8, pg_sleep(0.05)", [.integer(index)])
                        #expect(try rows[0].decode(Int.self, column: 0) == index)
                        _ = active.value.subtract(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(peak.value.load(ordering: .relaxed) <= 3)
        #expect(pool.idleCount <= 3 && pool.idleCount >= 1)
        pool.close()
        let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in } }
        #expect(error?.code == .poolClosed)
    }

    @Test("multi-host: a host that refuses is skipped and the connection lands on the next one")
    func multiHost() async throws {
        let b = try PostgresServers.endpoint(cluster: "B")
        let parameters = try PostgresParameters(
            parsing: KeyValue(
                key: "/db/main",
                string: "postgresql://\(try TestServers.value("BEACON_POSTGRES_APP_USER")):"
                    + "\(try TestServers.value("BEACON_POSTGRES_APP_PASSWORD"))@127.0.0.1:1,\(b)/"
                    + "\(try TestServers.value("BEACON_POSTGRES_DATABASE"))?target_session_attrs=read-write"
                    // The default 10 s, stretched under a sanitizer (where the connection once took longer).
                    + "&connect_timeout=\(Int(10 * TestServers.timeScale))"
            )
        )
        let connection = try await PostgresConnection.connect(to: parameters, logger: self.logger)
        defer { connection.close() }
        #expect(connection.endpoint == b)
        #expect(try await connection.query("SELECT 1")[0].decode(Int.self, column: 0) == 1)
    }

    @Test("an idle connection is pinged before reuse once the validation interval has passed")
    func validationPing() async throws {
        let pool = PostgresConnectionPool(
            factory: try self.factory(),
            configuration: .init(maxConnections: 1, validationInterval: .zero),
            logger: self.logger
        )
        defer { pool.close() }
        let first = try await pool.withConnection { connection in ObjectIdentifier(connection) }
        let second = try await pool.withConnection { connection in ObjectIdentifier(connection) }
        #expect(first == second)
    }

    @Test("a task waiting for a connection can be cancelled")
    func cancelWaiter() async throws {
        let pool = PostgresConnectionPool(
            factory: try self.factory(),
            configuration: .init(maxConnections: 1),
            logger: self.logger
        )
        defer { pool.close() }
        let holding = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { _ in
                holding.continuation.yield()
                for await _ in release.stream { break }
            }
        }
        for await _ in holding.stream { break }
        let waiter = Task { try await pool.withConnection { _ in 1 } }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        release.continuation.yield()
        try await holder.value
        #expect(try await pool.withConnection { _ in 2 } == 2)
    }

    @Test("a connection left inside a transaction is not reused")
    func openTransactionDiscarded() async throws {
        let pool = PostgresConnectionPool(factory: try self.factory(), logger: self.logger)
        defer { pool.close() }
        try await pool.withConnection { connection in _ = try await connection.query("BEGIN") }
        #expect(pool.idleCount == 0)
        try await pool.withConnection { connection in _ = try await connection.query("SELECT 1") }
        #expect(pool.idleCount == 1)
    }
}

/// A shared integer for counting from several tasks.
final class Gauge: Sendable {
    let value = Atomic<Int>(0)
}
