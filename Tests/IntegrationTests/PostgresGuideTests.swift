// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Testing

/// The examples of Documentation/Postgres.md that need a server, run against cluster B.
@Suite("BeaconPostgres guide", .requiresServers, .timeLimit(.minutes(1)))
struct PostgresGuideTests {
    @Test("quick start: discovery, cache, factory, pool, a parameterised query")
    func quickStart() async throws {
        let logger = PostgresServers.quietLogger
        let discovery = StaticSource(["/db/main": try PostgresServers.value(cluster: "B")])
        let source = CachingSource(discovery, configuration: TTLCacheConfiguration(ttl: .seconds(600)))
        let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
        let pool = PostgresConnectionPool(factory: factory, logger: logger)
        defer { pool.close() }

        try await pool.withConnection { connection in
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS users (id int8 PRIMARY KEY, name text)")
            _ = try await connection.query("INSERT INTO users VALUES (42, 'Ada') ON CONFLICT (id) DO NOTHING")
        }

        let name = try await pool.withConnection { connection in
            let rows = try await connection.query("SELECT name FROM users WHERE id = $1", [42])
            return try rows.first?.decode(String?.self, column: "name") ?? nil
        }
        #expect(name == "Ada")
    }

    @Test("connections: the types example")
    func connectionExample() async throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(key: "/db/main", string: try PostgresServers.value(cluster: "B"))
        )
        let connection = try await PostgresConnection.connect(to: parameters, logger: PostgresServers.quietLogger)
        defer { connection.close() }
        let rows = try await connection.query(
            "SELECT $1::text, $2::int8, $3::float8, $4::bool, $5::bytea, $6::text",
            ["hello", 42, 2.5, true, .bytes([0xDE, 0xAD]), nil]
        )
        let text = try rows[0].decode(String.self, column: 0)
        let missing = try rows[0].decode(String?.self, column: 5)
        #expect(text == "hello")
        #expect(missing == nil)
        #expect(try rows[0].decode([UInt8].self, column: 4) == [0xDE, 0xAD])
    }

    @Test("query deadlines: the pool example")
    func queryDeadlineExample() async throws {
        let logger = PostgresServers.quietLogger
        let source = CachingSource(StaticSource(["/db/main": try PostgresServers.value(cluster: "B")]))
        let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
        let pool = PostgresConnectionPool(
            factory: factory,
            configuration: .init(queryTimeout: .seconds(5), cancelGracePeriod: .seconds(1)),
            logger: logger
        )
        defer { pool.close() }
        var caught: PostgresError?
        do {
            _ = try await pool.withConnection { connection in
                try await connection.query("SELECT pg_sleep(30)")
            }
        } catch let error as PostgresError where error.code == .queryTimedOut {
            caught = error
        }
        let endpoint = try PostgresServers.endpoint(cluster: "B")
        #expect(
            caught.map(String.init(describing:))
                == "query timed out on \(endpoint): no result within 5.0 seconds; the server ended the query after the "
                + "cancel request, and the connection was closed (SQLSTATE 57014)"
        )
        #expect(caught?.cancelAnswered == true)
        let count = try await pool.withConnection { connection in
            try await connection.query("SELECT count(*) FROM pg_class", timeout: .seconds(300))[0].decode(
                Int.self,
                column: 0
            )
        }
        #expect(count > 0)
    }
}
