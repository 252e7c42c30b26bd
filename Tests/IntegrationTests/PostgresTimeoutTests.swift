// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import Testing

@testable import BeaconPostgres

/// Query deadlines against the SCRAM cluster B: the cancel the server answers, and, through a proxy that freezes,
/// the cancel nobody answers. Durations are checked only against generous upper bounds.
@Suite("BeaconPostgres query timeouts", .requiresServers, .timeLimit(.minutes(1)))
struct PostgresTimeoutTests {
    let logger = PostgresServers.quietLogger

    /// A factory for cluster B, or for a proxy in front of it.
    func factory(through proxy: LoopbackTCPProxy? = nil) throws -> PostgresConnectionFactory {
        var value = try PostgresServers.value(cluster: "B")
        if let proxy {
            let user = try TestServers.value("BEACON_POSTGRES_APP_USER")
            let password = try TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
            let database = try TestServers.value("BEACON_POSTGRES_DATABASE")
            value =
                #"{"host": "127.0.0.1", "port": \#(proxy.port), "database": "\#(database)", "user": "\#(user)", "#
                + #""password": "\#(password)", "connect_timeout": 5}"#
        }
        let source = CachingSource(StaticSource(["/db/main": value]))
        return PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: self.logger)
    }

    /// Waits up to 10 seconds for every cancel thread for a server to end.
    func cancelThreadsEnd(for endpoint: Endpoint) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while CancelRequest.runningCount(for: endpoint) > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return CancelRequest.runningCount(for: endpoint) == 0
    }

    @Test("a query past the pool's timeout is cancelled, the server answers 57014, and the pool serves the next one")
    func answeredCancel() async throws {
        let pool = PostgresConnectionPool(
            factory: try self.factory(),
            configuration: .init(maxConnections: 2, queryTimeout: .milliseconds(500)),
            logger: self.logger
        )
        defer { pool.close() }
        let first = try await pool.withConnection { connection in connection }
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in try await connection.query("SELECT pg_sleep(30)") }
        }
        #expect(start.duration(to: .now) < .seconds(20))
        #expect(error?.code == .queryTimedOut)
        #expect(error?.cancelAnswered == true)
        #expect(error?.sqlState == .queryCanceled)
        #expect(error?.endpoint == (try PostgresServers.endpoint(cluster: "B")))
        #expect(error?.message.contains("0.5 seconds") == true)
        let password = try TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
        #expect(error.map { !"\($0)".contains(password) && !String(reflecting: $0).contains(password) } == true)
        #expect(first.isClosed)
        let (next, connection) = try await pool.withConnection { connection in
            (try await connection.query("SELECT 2")[0].decode(Int.self, column: 0), connection)
        }
        #expect(next == 2)
        #expect(connection !== first)
        #expect(try await self.cancelThreadsEnd(for: try PostgresServers.endpoint(cluster: "B")))
    }

    @Test("a per-call timeout overrides the connection's: nil waits, a short one cancels and closes the connection")
    func perCallTimeout() async throws {
        let connection = try await self.factory().makeConnection()
        defer { connection.close() }
        #expect(connection.queryTimeouts == .init(timeout: .seconds(30), cancelGracePeriod: .seconds(2)))
        connection.queryTimeouts = .init(timeout: .milliseconds(100))
        let slept = try await connection.query("SELECT pg_sleep(0.5), $1::int8 AS n", [7], timeout: nil)
        #expect(try slept[0].decode(Int.self, column: "n") == 7)
        #expect(try await connection.query("SELECT 1", timeout: .seconds(10)).count == 1)
        let error = await #expect(throws: PostgresError.self) {
            try await connection.query("SELECT pg_sleep(30)", timeout: .milliseconds(300))
        }
        #expect(error?.code == .queryTimedOut)
        #expect(error?.cancelAnswered == true)
        #expect(connection.isClosed)
    }

    @Test("a frozen server: the cancel goes unanswered, the connection is closed, and the pool recovers after a thaw")
    func frozenServer() async throws {
        let proxy = try LoopbackTCPProxy(to: try PostgresServers.endpoint(cluster: "B"))
        defer { proxy.stop() }
        let pool = PostgresConnectionPool(
            factory: try self.factory(through: proxy),
            configuration: .init(
                maxConnections: 2,
                queryTimeout: .milliseconds(500),
                cancelGracePeriod: .seconds(1)
            ),
            logger: self.logger
        )
        defer { pool.close() }
        let first = try await pool.withConnection { connection in
            _ = try await connection.query("SELECT 1")
            return connection
        }
        proxy.freeze()
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in try await connection.query("SELECT 1") }
        }
        #expect(start.duration(to: .now) < .seconds(20))
        #expect(error?.code == .queryTimedOut)
        #expect(error?.cancelAnswered == false)
        #expect(error?.endpoint == proxy.endpoint)
        #expect(error?.message.contains("did not answer the cancel request") == true)
        #expect(first.isClosed)
        proxy.thaw()
        let (next, connection) = try await pool.withConnection { connection in
            (try await connection.query("SELECT 2")[0].decode(Int.self, column: 0), connection)
        }
        #expect(next == 2)
        #expect(connection !== first)
        // The cancel request waited in the proxy's backlog; thawed, the server answers it and its thread ends.
        #expect(try await self.cancelThreadsEnd(for: proxy.endpoint))
    }

    @Test("while a cancel to a frozen server is overdue, the next timeout sends none; the threads end when it resets")
    func overdueCancel() async throws {
        let proxy = try LoopbackTCPProxy(to: try PostgresServers.endpoint(cluster: "B"))
        defer { proxy.stop() }
        let factory = try self.factory(through: proxy)
        let one = try await factory.makeConnection()
        defer { one.close() }
        let two = try await factory.makeConnection()
        defer { two.close() }
        let timeouts = PostgresConnection.QueryTimeouts(
            timeout: .milliseconds(300),
            cancelGracePeriod: .milliseconds(500)
        )
        one.queryTimeouts = timeouts
        two.queryTimeouts = timeouts
        proxy.freeze()
        let unanswered = await #expect(throws: PostgresError.self) { try await one.query("SELECT 1") }
        #expect(unanswered?.cancelAnswered == false)
        #expect(unanswered?.message.contains("did not answer the cancel request") == true)
        let skipped = await #expect(throws: PostgresError.self) { try await two.query("SELECT 1") }
        #expect(skipped?.code == .queryTimedOut)
        #expect(skipped?.cancelAnswered == false)
        #expect(skipped?.message.contains("no cancel request was sent") == true)
        #expect(one.isClosed && two.isClosed)
        proxy.stop()
        #expect(try await self.cancelThreadsEnd(for: proxy.endpoint))
    }
}
