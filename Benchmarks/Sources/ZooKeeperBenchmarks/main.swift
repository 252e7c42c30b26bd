// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import BenchmarkSupport
import Foundation
import ZooKeeperBaseline

// ZooKeeper `get` through ZooKeeperClient (libzookeeper_mt's asynchronous API, answers resuming Swift tasks) beside
// the floor for it: libzookeeper_mt's synchronous zoo_get in a plain C loop on a handle of its own, to the same
// server, same node, in alternating rounds; sequential from one task (one C thread), then 8 concurrent tasks (8 C
// threads sharing one handle). Then watch propagation: a put on one client to the snapshot that holds it delivered
// by watch(prefix:) on another, beside the same in C (zoo_set on one handle, zoo_wget's watch and re-read on
// another). The C handles are set up as ZooKeeperClient sets up its own (see resolutionDelay below).
// Needs a running ZooKeeper: BEACON_ZOOKEEPER_ENDPOINT (scripts/servers start zookeeper; eval "$(scripts/servers env)").

let endpoint = ProcessInfo.processInfo.environment["BEACON_ZOOKEEPER_ENDPOINT"] ?? "127.0.0.1:21810"
let key = "/beacon-benchmarks/db/main/endpoint"
let rounds = 5
let sequentialRequests = 2_000
let concurrency = 8
let requestsPerTask = 500
let propagationChanges = 1_000

// ZOOKEEPER_BENCHMARK_SIDES runs only some sides and parts, for a profiler: comma-separated, from `c` and `swift`
// (default both) and `sequential`, `concurrent` and `watch` (default all three); e.g. `swift,sequential`.
let selection = Set(
    (ProcessInfo.processInfo.environment["ZOOKEEPER_BENCHMARK_SIDES"] ?? "").split(separator: ",").map(String.init)
)

/// Whether the selection includes a side or part: named, or no name of its group given.
func selected(_ name: String) -> Bool {
    let group = ["c", "swift"].contains(name) ? ["c", "swift"] : ["sequential", "concurrent", "watch"]
    return selection.contains(name) || selection.isDisjoint(with: group)
}

let writer = try ZooKeeperClient(configuration: .init(servers: [endpoint]))
let watcher = try ZooKeeperClient(configuration: .init(servers: [endpoint]))
try await writer.put(key, "10.0.0.5:5432")
// The C handles resolve the server names again at most once a second while connected, as ZooKeeperClient's do:
// libzookeeper's default (ZOOKEEPER_BENCHMARK_C_RESOLUTION_DELAY=0) resolves them several times per request, which
// costs more than the rest of the client's work.
let resolutionDelay = Int32(ProcessInfo.processInfo.environment["ZOOKEEPER_BENCHMARK_C_RESOLUTION_DELAY"] ?? "1000")!
guard let baseline = zk_baseline_open(endpoint, 10_000, resolutionDelay),
    let baselineWatcher = zk_baseline_open(endpoint, 10_000, resolutionDelay)
else {
    fatalError("the C baseline could not connect to \(endpoint)")
}

// MARK: get

/// `count` sequential zoo_get calls in C.
func baselineSequential(_ baseline: OpaquePointer, _ count: Int) -> (latencies: [Int64], elapsed: Int64) {
    var latencies = [Int64](repeating: 0, count: count)
    let start = ContinuousClock.now
    let code = zk_baseline_get_loop(baseline, key, Int32(count), &latencies)
    precondition(code == 0, "the C baseline failed with ZooKeeper code \(code)")
    return (latencies, nanoseconds(ContinuousClock.now - start))
}

/// `threads` C threads sharing one handle, each making `count` sequential zoo_get calls.
func baselineThreads(_ baseline: OpaquePointer, _ threads: Int, _ count: Int) -> (latencies: [Int64], elapsed: Int64) {
    var latencies = [Int64](repeating: 0, count: threads * count)
    var elapsed: Int64 = 0
    let code = zk_baseline_get_threads(baseline, key, Int32(threads), Int32(count), &latencies, &elapsed)
    precondition(code == 0, "the C baseline failed with ZooKeeper code \(code)")
    return (latencies, elapsed)
}

/// `count` sequential `ZooKeeperClient.get` calls from one task.
func clientSequential(_ client: ZooKeeperClient, _ count: Int) async throws -> (latencies: [Int64], elapsed: Int64) {
    try await timeSequentialCalls(count) {
        let value = try await client.get(key)
        precondition(value != nil)
    }
}

/// `tasks` concurrent tasks, each making `count` sequential `ZooKeeperClient.get` calls.
func clientConcurrent(
    _ client: ZooKeeperClient,
    _ tasks: Int,
    _ count: Int
) async throws -> (latencies: [Int64], elapsed: Int64) {
    try await timeConcurrentCalls(tasks: tasks, count: count) {
        let value = try await client.get(key)
        precondition(value != nil)
    }
}

@concurrent
func compareGets(_ client: ZooKeeperClient, _ baseline: OpaquePointer) async throws -> [Side] {
    // Warm-up: connections, caches, the pool's threads.
    _ = baselineSequential(baseline, 500)
    _ = try await clientSequential(client, 500)
    _ = baselineThreads(baseline, concurrency, 100)
    _ = try await clientConcurrent(client, concurrency, 100)
    var cSequential = Side("C `zoo_get` loop, 1 thread (floor)")
    var swiftSequential = Side("`ZooKeeperClient.get`, 1 task")
    var cConcurrent = Side("C `zoo_get`, \(concurrency) threads, one shared handle (floor)")
    var swiftConcurrent = Side("`ZooKeeperClient.get`, \(concurrency) tasks")
    for _ in 0..<rounds {
        if selected("sequential") {
            if selected("c") { await cSequential.measure { baselineSequential(baseline, sequentialRequests) } }
            if selected("swift") {
                try await swiftSequential.measure { try await clientSequential(client, sequentialRequests) }
            }
        }
        if selected("concurrent") {
            if selected("c") { await cConcurrent.measure { baselineThreads(baseline, concurrency, requestsPerTask) } }
            if selected("swift") {
                try await swiftConcurrent.measure { try await clientConcurrent(client, concurrency, requestsPerTask) }
            }
        }
    }
    return [cSequential, swiftSequential, cConcurrent, swiftConcurrent]
}

print("ZooKeeper at \(endpoint), node \(key)")
let gets = try await compareGets(writer, baseline)
report("get, sequential (\(sequentialRequests) requests per round)", gets[0], gets[1])
report("get, \(concurrency) concurrent (\(concurrency) × \(requestsPerTask) requests per round)", gets[2], gets[3])

// MARK: Watch propagation

/// Puts on `writer` and waits for `watcher`'s watch(prefix:) to deliver each value: rounds of `count` changes,
/// alternating with the C loop's rounds (zoo_set on one handle, data watch and zoo_wget on the other). Each side
/// writes its own node, so neither fires the other's watches.
@concurrent
func comparePropagation(
    _ writer: ZooKeeperClient,
    _ watcher: ZooKeeperClient,
    _ baseline: OpaquePointer,
    _ baselineWatcher: OpaquePointer
) async throws -> [Side] {
    let prefix = "/beacon-benchmarks/watch/"
    let cNode = "/beacon-benchmarks/watch-c"
    try await writer.put("\(prefix)k", "start")
    try await writer.put(cNode, "start")
    var iterator = watcher.watch(prefix: prefix).makeAsyncIterator()
    _ = try await iterator.next()
    let perRound = propagationChanges / rounds
    var floor = Side("C `zoo_set` → watch → `zoo_wget` (floor)")
    var ours = Side("`put` → `watch(prefix:)` snapshot")
    var index = 0
    for _ in 0..<rounds {
        if selected("c") {
            await floor.measure {
                var latencies = [Int64](repeating: 0, count: perRound)
                let start = ContinuousClock.now
                let code = zk_baseline_watch_loop(baseline, baselineWatcher, cNode, Int32(perRound), &latencies)
                precondition(code == 0, "the C watch loop failed with ZooKeeper code \(code)")
                return (latencies, nanoseconds(ContinuousClock.now - start))
            }
        }
        if selected("swift") {
            try await ours.measure {
                var latencies: [Int64] = []
                let start = ContinuousClock.now
                for _ in 0..<perRound {
                    index += 1
                    let before = ContinuousClock.now
                    try await writer.put("\(prefix)k", String(index))
                    while let snapshot = try await iterator.next(), snapshot.first?.string != String(index) {}
                    latencies.append(nanoseconds(ContinuousClock.now - before))
                }
                return (latencies, nanoseconds(ContinuousClock.now - start))
            }
        }
    }
    return [floor, ours]
}

if selected("watch") {
    let propagation = try await comparePropagation(writer, watcher, baseline, baselineWatcher)
    report(
        "watch propagation, \(propagationChanges) changes (writer and watcher on separate sessions; the set's round "
            + "trip included)",
        propagation[0],
        propagation[1],
        unit: "change"
    )
    for side in propagation where !side.latencies.isEmpty {
        let sorted = side.latencies.sorted()
        print(
            "\(side.name), all \(sorted.count) changes together: p50 \(format(percentile(sorted, 0.5))) µs, "
                + "p99 \(format(percentile(sorted, 0.99))) µs"
        )
    }
}

zk_baseline_close(baseline)
zk_baseline_close(baselineWatcher)
_ = try await writer.delete(prefix: "/beacon-benchmarks/")
_ = try await writer.delete("/beacon-benchmarks")
await watcher.close()
await writer.close()
