// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Logging
import ServiceRunChecks
import Testing

/// `PostgresConnectionPool.run()` as a service, without a server: it holds the pool open until graceful shutdown,
/// cancellation or `close()`, then closes it.
@Suite("PostgresConnectionPool as a service", .timeLimit(.minutes(1)))
struct PostgresConnectionPoolLifecycleTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func pool() -> PostgresConnectionPool {
        let source = CachingSource(StaticSource(["/db/main": "postgresql://app@127.0.0.1:1/app"]))
        let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: self.logger)
        return PostgresConnectionPool(factory: factory, logger: self.logger)
    }

    @Test(
        "run() returns on graceful shutdown and on cancellation, not before, and closes the pool",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func stops(stop: ServiceRunChecks.Stop) async throws {
        let pool = self.pool()
        try await ServiceRunChecks.expectRunsUntil(stop, pool)
        let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in } }
        #expect(error?.code == .poolClosed)
    }

    @Test("close() ends run()")
    func closeEndsRun() async {
        let pool = self.pool()
        await withDiscardingTaskGroup { group in
            group.addTask { await pool.run() }
            try? await Task.sleep(for: .milliseconds(50))
            pool.close()
        }
    }
}
