// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached

/// A memcached pool, a second pool sharing an application's worker threads, and a dynamic pool rebuilt as its
/// server list moves among the three test servers: the dynamic pool's worker threads must be the same threads after
/// every rebuild, and every worker thread must be gone once the pools are closed.
enum MemcachedCensus {
    static let threadName = "beacon-memcache"

    static func run(_ environment: TestEnvironment, baseline: Threads) async throws -> [String] {
        var failures: [String] = []
        let servers = environment.memcached
        let before = Threads.current().names[Self.threadName, default: 0]

        // A pool of its own: maxConnections threads, stopped by close().
        let pool = try MemcachedPool(servers: servers, configuration: .init(maxConnections: 3))
        try await pool.set("thread-census", value: Array("1".utf8), expiration: .seconds(60))
        _ = try await pool.get("thread-census")

        // Two pools sharing the application's group: its threads only, stopped by the application.
        let shared = MemcachedWorkerThreads(count: 2)
        let first = try MemcachedPool(servers: [servers[0]], configuration: .init(workerThreads: shared))
        let second = try MemcachedPool(servers: [servers[1]], configuration: .init(workerThreads: shared))
        _ = try await first.get("thread-census")
        _ = try await second.get("thread-census")
        let withShared = Threads.current().names[Self.threadName, default: 0]
        print(
            "memcached, a pool of 3 connections and a group of 2 shared by two pools: "
                + Threads.current().added(since: baseline)
        )
        if withShared - before != 3 + 2 {
            failures.append("memcached: \(withShared - before) worker threads, expected 5")
        }

        // A dynamic pool over a list that changes.
        let source = StaticSource(["/thread-census/memcached": servers[0].description])
        let dynamic = DynamicMemcachedPool(
            source: source,
            servers: .key("/thread-census/memcached"),
            configuration: .init(pool: .init(maxConnections: 2))
        )
        let lists = [
            [servers[0], servers[1]], [servers[1], servers[2]], [servers[2]], servers, [servers[0]], [servers[1]],
        ]
        let (generations, dynamicIDs, rebuiltIDs) = try await whileRunning(dynamic) {
            while dynamic.generation < 1 { await dynamic.waitForUpdate(after: dynamic.updateCount) }
            _ = try await dynamic.get("thread-census")
            let dynamicIDs = Threads.current().ids(named: Self.threadName)
            for list in lists {
                let seen = dynamic.updateCount
                _ = source.set("/thread-census/memcached", to: list.map(\.description).joined(separator: ","))
                await dynamic.waitForUpdate(after: seen)
                // An operation on every generation, so that each one's connections are really used.
                _ = try await dynamic.get("thread-census")
            }
            print("memcached, and a dynamic pool after its rebuilds: \(Threads.current().added(since: baseline))")
            return (dynamic.generation, dynamicIDs, Threads.current().ids(named: Self.threadName))
        }
        print(
            "memcached: dynamic pool rebuilt \(generations - 1) times; worker threads \(dynamicIDs.count) before the "
                + "rebuilds, \(rebuiltIDs.count) after, \(dynamicIDs == rebuiltIDs ? "the same" : "not the same") threads"
        )
        if generations != lists.count + 1 {
            failures.append("memcached: \(generations) generations of the dynamic pool, expected \(lists.count + 1)")
        }
        if dynamicIDs != rebuiltIDs {
            failures.append("memcached: the worker threads changed across rebuilds (\(dynamicIDs) → \(rebuiltIDs))")
        }
        if dynamicIDs.count != withShared + 2 {
            failures.append(
                "memcached: \(dynamicIDs.count) worker threads with the dynamic pool, expected \(withShared + 2)"
            )
        }

        // Pools dropped without close(): their threads stop all the same.
        do {
            let dropped = try MemcachedPool(servers: servers, configuration: .init(maxConnections: 2))
            _ = try await dropped.get("thread-census")
            let droppedDynamic = DynamicMemcachedPool(source: source, servers: .key("/thread-census/memcached"))
            try droppedDynamic.update(servers: servers)
            _ = try await droppedDynamic.get("thread-census")
        }

        // The dynamic pool's run() has ended: its threads stop. Then the other pools and the shared group.
        pool.close()
        first.close()
        second.close()
        let sharedLeft = await Threads.settle(named: Self.threadName, to: before + 2, within: .seconds(5))
        if sharedLeft.names[Self.threadName, default: 0] != before + 2 {
            failures.append(
                "memcached: \(sharedLeft.names[Self.threadName, default: 0] - before) worker threads after the pools "
                    + "closed, expected the shared group's 2"
            )
        }
        shared.close()
        let after = await Threads.settle(named: Self.threadName, to: before, within: .seconds(5))
        if after.names[Self.threadName, default: 0] != before {
            failures.append("memcached: worker threads left after every pool and group closed")
        }
        return failures
    }
}
