// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres

/// Scenario 4: the PostgreSQL server (postgres-a, with its backends) is frozen while a pooled connection runs
/// `SELECT pg_sleep(5)`; the pool has a 2 s query timeout and a 1 s grace period for the cancel request.
///
/// Goals: the query throws `queryTimedOut` by its deadline plus the grace period (3 s, with 1 s to spare), saying that
/// the cancel went unanswered; the pool closes that connection; after the thaw, the next request is served (on a new
/// connection) within 5 s.
enum PostgresScenario {
    static let queryTimeout = Duration.seconds(2)
    static let cancelGracePeriod = Duration.seconds(1)

    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        var row = Row(scenario: "postgres-frozen-mid-query", goalMet: true)
        let parameters = """
            {"host": "127.0.0.1", "port": \(try Environment.value("BEACON_POSTGRES_A_PORT")), \
            "database": "\(try Environment.value("BEACON_POSTGRES_DATABASE"))", \
            "user": "\(try Environment.value("BEACON_POSTGRES_APP_USER"))", \
            "password": "\(try Environment.value("BEACON_POSTGRES_APP_PASSWORD"))", "connect_timeout": 5}
            """
        let source = CachingSource(StaticSource(["/db/main": parameters]))
        let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"))
        let pool = PostgresConnectionPool(
            factory: factory,
            configuration: .init(
                maxConnections: 2,
                queryTimeout: Self.queryTimeout,
                cancelGracePeriod: Self.cancelGracePeriod
            )
        )
        defer { pool.close() }
        let first = try await pool.withConnection { connection in
            _ = try await connection.query("SELECT 1")
            return connection
        }

        let start = ContinuousClock.now
        let query = Task {
            try await pool.withConnection { connection in try await connection.query("SELECT pg_sleep(5)") }
        }
        defer { query.cancel() }
        try await Task.sleep(for: .milliseconds(500))
        row.attempted = 1
        let (failure, ended) = try await Fault.frozen(["postgres-a"]).during {
            var failure: PostgresError?
            do {
                _ = try await query.value
            } catch {
                failure = error as? PostgresError ?? PostgresError(.connectionClosed, "\(error)")
            }
            let ended = ContinuousClock.now
            try await Task.sleep(for: .seconds(1))
            return (failure, ended)
        }
        let thawed = ContinuousClock.now
        let elapsed = start.duration(to: ended)
        row.notes.append("froze postgres-a 0.5 s into the query; it ended after \(elapsed.seconds)")
        if let failure {
            row.notes.append("\(failure.code), cancel answered: \(failure.cancelAnswered.map(String.init) ?? "-")")
        }
        row.require(failure?.code == .queryTimedOut, "the query did not end with queryTimedOut")
        row.require(failure?.cancelAnswered == false, "the frozen server answered the cancel request")
        row.require(
            elapsed <= Self.queryTimeout + Self.cancelGracePeriod + .seconds(1),
            "the query outlasted its deadline and grace period"
        )
        row.require(first.isClosed, "the pool kept the connection of the timed-out query")

        row.attempted += 1
        do {
            let value = try await pool.withConnection { connection in
                (try await connection.query("SELECT 2")[0].decode(Int.self, column: 0), connection !== first)
            }
            row.recovery = thawed.duration(to: .now)
            row.require(value.0 == 2 && value.1, "the next request was not served on a new connection")
        } catch {
            row.failed += 1
            row.require(false, "the next request after the thaw failed: \(error)")
        }
        row.require(row.recovery.map { $0 <= .seconds(5) } ?? false, "the next request took longer than 5 s")
        return row
    }
}
