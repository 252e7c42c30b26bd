// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Testing

/// Which failures `withConnection` retries: only those whose statement never reached the server. Uses the `beacon`
/// database on cluster A and terminates only its own backends. Part of the failover suite, which is serialized:
/// its tests take that database away from every client, which would break a test running beside them.
extension PostgresFailoverTests {
    static func retryPool() throws -> PostgresConnectionPool {
        let (logger, _) = PostgresServers.recordingLogger()
        let factory = PostgresConnectionFactory(
            source: CachingSource(StaticSource(["/db/main": try PostgresServers.value(cluster: "A")])),
            location: .key("/db/main"),
            logger: logger
        )
        return PostgresConnectionPool(factory: factory, configuration: .init(maxConnections: 1), logger: logger)
    }

    @Test("a connection the server closed after checkout: the closure runs again only when nothing was sent")
    func unsentIsRetried() async throws {
        let pool = try Self.retryPool()
        defer { pool.close() }
        let admin = try await PostgresServers.superuserOnA(logger: PostgresServers.quietLogger)
        defer { admin.close() }
        let first = try await pool.withConnection { connection in
            try await connection.query("SELECT pg_backend_pid()")[0].decode(Int.self, column: 0)
        }
        var calls = 0
        do {
            let second = try await pool.withConnection { connection in
                calls += 1
                if calls == 1 {
                    // The pool checked this idle connection at checkout; now its server session ends, as in a shutdown.
                    _ = try await admin.query("SELECT pg_terminate_backend($1::int)", [.integer(first)])
                    let gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1::int"
                    while try await !admin.query(gone, [.integer(first)])[0].decode(Bool.self, column: 0) {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                return try await connection.query("SELECT pg_backend_pid()")[0].decode(Int.self, column: 0)
            }
            // The server's goodbye and the end of the stream had arrived: the statement was never sent, so the
            // closure ran again on a new connection.
            #expect(calls == 2)
            #expect(second != first)
        } catch let error as PostgresError {
            // Only the server's goodbye had arrived, not yet the end of the stream (the backend was still exiting):
            // libpq took the statement, so it counts as sent and is not run again.
            #expect(calls == 1, "\(error)")
            #expect(!error.statementNotSent, "\(error)")
        }
    }

    @Test("a statement that reached the server and lost its session fails, and is not run again")
    func sentIsNotRetried() async throws {
        let pool = try Self.retryPool()
        defer { pool.close() }
        var calls = 0
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                calls += 1
                _ = try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
        #expect(calls == 1)
        #expect(error?.statementNotSent == false)
        #expect(error?.sqlState == .adminShutdown || error?.code == .connectionClosed, "\(error.map { "\($0)" } ?? "")")
        // The pool carries on with a new connection.
        #expect(try await pool.withConnection { try await $0.query("SELECT 1")[0].decode(Int.self, column: 0) } == 1)
    }
}
