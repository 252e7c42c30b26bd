// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import BeaconMemcached
import Logging
import ServiceRunChecks
import Testing

/// `DynamicMemcachedPool.run()` as a service: it follows its source until graceful shutdown, cancellation or
/// `close()`, then closes the pool. No memcached server is needed (pools connect lazily).
@Suite("DynamicMemcachedPool as a service", .timeLimit(.minutes(1)))
struct DynamicMemcachedPoolLifecycleTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let prefix = "/services/memcached/"

    /// The pool in use while `run()` ran.
    final class Followed: Sendable {
        let pool = Lock<MemcachedPool?>(nil)
    }

    @Test(
        "run() returns on graceful shutdown and on cancellation, not before, and closes the pool",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func stops(stop: ServiceRunChecks.Stop) async throws {
        let source = StaticSource([Self.prefix + "a": "10.0.0.1:11211"])
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        let followed = Followed()
        try await ServiceRunChecks.expectRunsUntil(stop, pool) {
            while pool.updateCount < 1 { await pool.waitForUpdate(after: pool.updateCount) }
            followed.pool.withLock { $0 = pool.currentPool }
        }
        let last = try #require(followed.pool.withLock { $0 })
        #expect(last.isClosed)
        #expect(last.isReleased)
        #expect(pool.currentPool == nil)
        let error = await #expect(throws: MemcachedError.self) { try await pool.get("k") }
        #expect(error?.code == .closed)
    }

    @Test("close() ends run()")
    func closeEndsRun() async throws {
        let source = StaticSource([Self.prefix + "a": "10.0.0.1:11211"])
        let pool = DynamicMemcachedPool(source: source, servers: .prefix(Self.prefix), logger: Self.logger)
        await withDiscardingTaskGroup { group in
            group.addTask { await pool.run() }
            while pool.updateCount < 1 { await pool.waitForUpdate(after: pool.updateCount) }
            pool.close()
        }
        #expect(pool.currentPool == nil)
    }
}
