// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres

/// A PostgreSQL factory and pool running queries, then a connection of its own: the poll thread runs while a
/// connection is open and is gone once the last one is closed.
enum PostgresCensus {
    static let threadName = "beacon-pg-poll"

    static func run(_ environment: TestEnvironment, baseline: Threads) async throws -> [String] {
        var failures: [String] = []
        let source = CachingSource(StaticSource(["/thread-census/db": environment.postgres]))
        let factory = PostgresConnectionFactory(source: source, location: .key("/thread-census/db"))
        let pool = PostgresConnectionPool(factory: factory, configuration: .init(maxConnections: 3))
        let during = try await whileRunning(pool) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            let rows = try await connection.query("SELECT $1::int8 + 1 AS next", [.integer(index)])
                            guard try rows[0].decode(Int.self, column: "next") == index + 1 else {
                                throw Unexpected(description: "a wrong answer from PostgreSQL")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            print("postgres, a pool after queries: \(Threads.current().added(since: baseline))")
            return Threads.current().names[Self.threadName, default: 0]
        }
        if during != 1 {
            failures.append("postgres: \(during) poll threads while the pool ran, expected 1")
        }
        // The pool's run() ended: it closed its connections, and with the last one the poll thread stops.
        let afterPool = await Threads.settle(named: Self.threadName, to: 0, within: .seconds(5))
        if afterPool.names[Self.threadName, default: 0] != 0 {
            failures.append("postgres: the poll thread outlived the pool's connections")
        }

        // A connection of the application's own starts it again; closing it stops it.
        let connection = try await factory.makeConnection()
        _ = try await connection.query("SELECT 1")
        let again = Threads.current().names[Self.threadName, default: 0]
        connection.close()
        let afterConnection = await Threads.settle(named: Self.threadName, to: 0, within: .seconds(5))
        let left = afterConnection.names[Self.threadName, default: 0]
        print("postgres: \(again) poll thread with one connection open, \(left) after it closed")
        if again != 1 || left != 0 {
            failures.append("postgres: the poll thread did not start again for a new connection, or did not stop")
        }
        return failures
    }
}

struct Unexpected: Error, CustomStringConvertible {
    var description: String
}
