// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import BenchmarkSupport
import Foundation
import Logging
import MemcachedBaseline
import Synchronization

// The async get as a server calls it: 1, 8 and 64 tasks, each awaiting gets one after the other, over a pool of 4
// connections (and so 4 worker threads), beside C libmemcached with one thread per connection (one thread for the
// single task), each thread owning its handle: the same servers, options and keys, in alternating rounds.
//
// Two Swift sides: tasks on the global executor (a request handler as it comes: each get moves to a worker thread
// and back), and tasks that prefer the pool's worker threads as their executor (the get runs on the thread the task
// is on, as C does).

/// The connections of the pool, and C's threads under concurrency.
private let connections = 4
/// Gets per round, shared among the tasks (or threads).
private let getsPerRound = 6_400
private let rounds = 7

/// C handles, one per thread, created once so that their connections stay open across rounds.
private final class CHandles {
    let handles: [OpaquePointer]
    let keys: [UnsafePointer<CChar>]

    init(endpoints: [Endpoint], keys: [String], count: Int) {
        let hosts = endpoints.map { strdup($0.host)! }
        defer { for host in hosts { free(host) } }
        let ports = endpoints.map { Int32($0.port) }
        self.handles = (0..<count).map { _ in
            let handle = hosts.map { UnsafePointer($0) }.withUnsafeBufferPointer { hostPointers in
                memcached_baseline_create(hostPointers.baseAddress!, ports, Int32(endpoints.count))
            }
            guard let handle else { fatalError("memcached_baseline_create failed") }
            return handle
        }
        self.keys = keys.map { UnsafePointer(strdup($0)!) }
    }

    deinit {
        for handle in self.handles { memcached_baseline_free(handle) }
        for key in self.keys { free(UnsafeMutablePointer(mutating: key)) }
    }

    /// One round on `threads` threads, `gets` gets in all.
    func round(threads: Int, gets: Int) -> (latencies: [Int64], elapsed: Int64) {
        let perThread = gets / threads
        var latencies = [Int64](repeating: 0, count: perThread * threads)
        let elapsed = Array(self.handles.prefix(threads)).withUnsafeBufferPointer { handles in
            latencies.withUnsafeMutableBufferPointer { latencies in
                memcached_baseline_parallel_get(
                    handles.baseAddress!,
                    Int32(threads),
                    self.keys,
                    Int32(self.keys.count),
                    Int32(perThread),
                    latencies.baseAddress!
                )
            }
        }
        precondition(elapsed >= 0, "the C baseline failed")
        return (latencies, elapsed)
    }
}

/// Runs the comparison and prints, for each number of tasks, both Swift sides against C.
func compareAsyncGets() async throws {
    let endpoints = try Endpoint.list(
        parsing: ProcessInfo.processInfo.environment["BEACON_MEMCACHED_ENDPOINTS"]
            ?? "127.0.0.1:21211,127.0.0.1:21212,127.0.0.1:21213"
    )
    let keys = (0..<100).map { "beacon-benchmarks:key:\($0)" }
    let pool = try MemcachedPool(
        servers: endpoints,
        configuration: MemcachedPool.Configuration(maxConnections: connections),
        logger: Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
    )
    defer { pool.close() }
    let value = [UInt8](repeating: 0x61, count: 100)
    try pool.withBlockingConnection { connection in
        for key in keys { try connection.set(key, value: value) }
    }
    let c = CHandles(endpoints: endpoints, keys: keys, count: connections)
    let workers = pool.workerThreads
    let get: @Sendable (Int) async throws -> Void = { index in
        let found = try await pool.get(keys[index % keys.count])
        precondition(found != nil)
    }

    print(
        "\nasync get over \(endpoints.count) servers, a pool of \(connections) connections; C: libmemcached with "
            + "one thread per connection (one for a single task), \(rounds) alternating rounds of "
            + "\(getsPerRound) gets"
    )
    var summary = CurveTable(
        name: "memcached-async-get",
        columns: ["tasks", "c_gets_per_s", "global_gets_per_s", "preferring_gets_per_s", "preferring_over_c"]
    )
    // `MEMCACHED_PROFILE=c|global|preferring`: only that side, 64 tasks (4 C threads), 20 rounds, for a profiler.
    if let side = ProcessInfo.processInfo.environment["MEMCACHED_PROFILE"] {
        let counter = Counter()
        let call: @Sendable () async throws -> Void = { try await get(counter.next()) }
        for _ in 0..<20 {
            switch side {
            case "c": _ = c.round(threads: connections, gets: getsPerRound)
            case "global": _ = try await timeConcurrentCalls(tasks: 64, count: getsPerRound / 64, call)
            default:
                _ = try await timeConcurrentCalls(
                    tasks: 64,
                    count: getsPerRound / 64,
                    executorPreference: workers,
                    call
                )
            }
        }
        return
    }
    for tasks in [1, 8, 64] {
        let threads = min(tasks, connections)
        var floor = Side("C, \(threads) thread\(threads == 1 ? "" : "s")")
        var global = Side("Swift, \(tasks) task\(tasks == 1 ? "" : "s") on the global executor")
        var preferring = Side("Swift, \(tasks) task\(tasks == 1 ? "" : "s") preferring the pool's threads")
        for round in 0...rounds {
            let counter = Counter()
            func call() -> @Sendable () async throws -> Void {
                { try await get(counter.next()) }
            }
            if round == 0 {  // warm-up: connections open, threads started
                _ = c.round(threads: threads, gets: getsPerRound / 4)
                _ = try await timeConcurrentCalls(tasks: tasks, count: getsPerRound / 4 / tasks, call())
                continue
            }
            await floor.measure { c.round(threads: threads, gets: getsPerRound) }
            try await global.measure {
                try await timeConcurrentCalls(tasks: tasks, count: getsPerRound / tasks, call())
            }
            try await preferring.measure {
                try await timeConcurrentCalls(
                    tasks: tasks,
                    count: getsPerRound / tasks,
                    executorPreference: workers,
                    call()
                )
            }
        }
        report("async get, \(tasks) task\(tasks == 1 ? "" : "s"), global executor", floor, global, unit: "get")
        report(
            "async get, \(tasks) task\(tasks == 1 ? "" : "s"), preferring the pool's threads",
            floor,
            preferring,
            unit: "get"
        )
        summary.add([
            Double(tasks), floor.median(\.rate), global.median(\.rate), preferring.median(\.rate),
            preferring.median(\.rate) / floor.median(\.rate),
        ])
    }
    summary.finish()
}

/// Hands out 0, 1, 2, … to concurrent callers, so that tasks cycle over the keys.
private final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int {
        self.value.add(1, ordering: .relaxed).oldValue
    }
}
