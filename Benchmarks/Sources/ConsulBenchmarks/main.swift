// SPDX-License-Identifier: Apache-2.0

import Beacon
@_spi(Benchmarks) import BeaconConsul
import BenchmarkSupport
import CurlBaseline
import Foundation

// Consul KV `get` through ConsulClient (BeaconHTTP: libcurl's multi interface on the client's I/O thread, answers
// resuming Swift tasks) beside the floor for it: the same GET (`/v1/kv/<key>`) done by libcurl in plain C loops over
// kept-alive connections, against the same agent, same key, in the same process, in alternating rounds (C, then
// Swift). Sequential from one task (one `curl_easy_perform` loop), then 8 concurrent tasks on one client (8 easy
// handles on one multi handle, driven by one C thread). Each side is judged on latency and on the process's CPU time
// per request: against a slow agent (the fake, in Python), the agent's own time is common to both sides and
// dominates latency, while the CPU time is the client's own cost.
// A third C loop drives libcurl as BeaconHTTP does (multi-socket interface, epoll); the "Swift floor" side has a
// task await each GET of that loop through a continuation on the loop's thread, and nothing else: what Swift
// concurrency itself costs, apart from everything the client does (`AsyncFloor.swift`). The same floor decoding each
// answer exactly as `get` does (the package's JSON reader and base64) tells what the least a KV read adds costs.
// Needs a Consul agent or the fake agent: BEACON_CONSUL_ENDPOINT (scripts/servers start consul;
// eval "$(scripts/servers env consul)").

let endpoint = ProcessInfo.processInfo.environment["BEACON_CONSUL_ENDPOINT"] ?? "http://127.0.0.1:28500"
let key = "/beacon-benchmarks/db/main/endpoint"
// CONSUL_BENCHMARK_ROUNDS changes the number of alternating rounds (more rounds, a steadier median).
let rounds = max(1, Int(ProcessInfo.processInfo.environment["CONSUL_BENCHMARK_ROUNDS"] ?? "") ?? 20)
let sequentialRequests = 2_000
// CONSUL_BENCHMARK_CONCURRENCY changes the number of concurrent tasks and C handles; with 1, the C side is libcurl's
// multi interface alone (one easy handle added and removed for each request).
let concurrency = max(1, Int(ProcessInfo.processInfo.environment["CONSUL_BENCHMARK_CONCURRENCY"] ?? "") ?? 8)
let requestsPerTask = 2_000 / concurrency

// CONSUL_BENCHMARK_SIDES runs only some sides and parts, for a profiler: comma-separated, from `c`, `events`,
// `swift`, `executor`, `floor` and `decode` (default all) and `sequential` and `concurrent` (default both); e.g.
// `swift,sequential`.
let selection = Set(
    (ProcessInfo.processInfo.environment["CONSUL_BENCHMARK_SIDES"] ?? "").split(separator: ",").map(String.init)
)

/// Whether the selection includes a side or part: named, or no name of its group given.
func selected(_ name: String) -> Bool {
    let sides = ["c", "events", "swift", "executor", "floor", "decode"]
    let group = sides.contains(name) ? sides : ["sequential", "concurrent"]
    return selection.contains(name) || selection.isDisjoint(with: group)
}

let consul = try ConsulClient(configuration: .init(agents: [endpoint]))
try await consul.put(key, "10.0.0.5:5432")
let url = "\(endpoint)/v1/kv\(key)"
guard let baseline = curl_baseline_open(url, nil),
    let baselineEvents = curl_baseline_events_open(url),
    let baselineMulti = curl_baseline_multi_open(url, Int32(concurrency))
else {
    fatalError("the C baseline could not create its libcurl handles")
}

/// Times one run of a C baseline that stores `count` latencies, and checks that it returned 0.
func timeBaseline(
    _ name: String,
    _ count: Int,
    _ run: (UnsafeMutablePointer<Int64>) -> Int32
) -> (latencies: [Int64], elapsed: Int64) {
    var latencies = [Int64](repeating: 0, count: count)
    let start = ContinuousClock.now
    let code = latencies.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
    let elapsed = nanoseconds(ContinuousClock.now - start)
    precondition(code == 0, "the C \(name) failed with code \(code)")
    return (latencies, elapsed)
}

/// `count` sequential GETs in C, with one easy handle.
func baselineSequential(_ baseline: OpaquePointer, _ count: Int) -> (latencies: [Int64], elapsed: Int64) {
    let timed = timeBaseline("baseline", count) { curl_baseline_run(baseline, Int32(count), $0) }
    let status = curl_baseline_status(baseline)
    precondition(status == 200, "the C baseline's GET answered HTTP \(status)")
    return timed
}

/// `count` sequential GETs in C, driven as BeaconHTTP drives libcurl (multi-socket interface, epoll).
func baselineEventsSequential(_ baseline: OpaquePointer, _ count: Int) -> (latencies: [Int64], elapsed: Int64) {
    timeBaseline("multi-socket baseline", count) { curl_baseline_events_run(baseline, Int32(count), $0) }
}

/// `handles` GETs in flight at once in C (one multi handle, one thread), each handle making `count` in a row.
func baselineConcurrent(_ baseline: OpaquePointer, _ handles: Int, _ count: Int) -> (latencies: [Int64], elapsed: Int64)
{
    timeBaseline("multi baseline", handles * count) { curl_baseline_multi_run(baseline, Int32(count), $0) }
}

/// `count` sequential GETs from one task on the floor's executor (see `AsyncFloor.swift`); with `decoding`, each
/// answer decoded as `ConsulClient.get` decodes it.
func floorSequential(
    _ floor: AsyncFloorExecutor,
    _ count: Int,
    decoding: Bool = false
) async throws -> (latencies: [Int64], elapsed: Int64) {
    try await withTaskExecutorPreference(floor) {
        try await timeSequentialCalls(count) {
            let body = await floor.get()
            if decoding {
                let entry = try ConsulClient.decodeGetAnswer(body, key: key, agent: endpoint)
                precondition(entry != nil)
            } else {
                precondition(!body.isEmpty)
            }
        }
    }
}

/// `count` sequential `ConsulClient.get` calls from one task.
func clientSequential(_ consul: ConsulClient, _ count: Int) async throws -> (latencies: [Int64], elapsed: Int64) {
    try await timeSequentialCalls(count) {
        let value = try await consul.get(key)
        precondition(value != nil)
    }
}

/// `tasks` concurrent tasks, each making `count` sequential `ConsulClient.get` calls.
func clientConcurrent(
    _ consul: ConsulClient,
    _ tasks: Int,
    _ count: Int
) async throws -> (latencies: [Int64], elapsed: Int64) {
    try await timeConcurrentCalls(tasks: tasks, count: count) {
        let value = try await consul.get(key)
        precondition(value != nil)
    }
}

@concurrent
func compare(
    _ consul: ConsulClient,
    _ baseline: OpaquePointer,
    _ baselineEvents: OpaquePointer,
    _ baselineMulti: OpaquePointer,
    _ floor: AsyncFloorExecutor
) async throws -> [Side] {
    // Warm-up: connections, caches, the pool's threads.
    _ = baselineSequential(baseline, 300)
    _ = baselineEventsSequential(baselineEvents, 300)
    _ = try await clientSequential(consul, 300)
    _ = try await floorSequential(floor, 300)
    _ = baselineConcurrent(baselineMulti, concurrency, 40)
    _ = try await clientConcurrent(consul, concurrency, 40)
    var cSequential = Side("C `curl_easy_perform` loop, 1 handle (floor)")
    var eventsSequential = Side("C multi-socket loop, 1 handle, epoll (BeaconHTTP's design)")
    var swiftSequential = Side("`ConsulClient.get`, 1 task")
    var executorSequential = Side("`ConsulClient.get`, 1 task on `consul.taskExecutor`")
    var floorSide = Side("Swift floor: 1 task awaiting each GET of that C loop on its thread")
    var decodingFloorSide = Side("Swift floor decoding each answer as `ConsulClient.get` does")
    let plural = concurrency == 1 ? "" : "s"
    var cConcurrent = Side("C `curl_multi_perform` loop, \(concurrency) easy handle\(plural), 1 thread (floor)")
    var swiftConcurrent = Side("`ConsulClient.get`, \(concurrency) task\(plural)")
    for _ in 0..<rounds {
        if selected("sequential") {
            if selected("c") { await cSequential.measure { baselineSequential(baseline, sequentialRequests) } }
            if selected("events") {
                await eventsSequential.measure { baselineEventsSequential(baselineEvents, sequentialRequests) }
            }
            if selected("swift") {
                try await swiftSequential.measure { try await clientSequential(consul, sequentialRequests) }
            }
            if selected("floor") {
                try await floorSide.measure { try await floorSequential(floor, sequentialRequests) }
            }
            if selected("decode") {
                try await decodingFloorSide.measure {
                    try await floorSequential(floor, sequentialRequests, decoding: true)
                }
            }
            if selected("executor") {
                try await executorSequential.measure {
                    try await withTaskExecutorPreference(consul.taskExecutor) {
                        try await clientSequential(consul, sequentialRequests)
                    }
                }
            }
        }
        if selected("concurrent") {
            if selected("c") {
                await cConcurrent.measure { baselineConcurrent(baselineMulti, concurrency, requestsPerTask) }
            }
            if selected("swift") {
                try await swiftConcurrent.measure { try await clientConcurrent(consul, concurrency, requestsPerTask) }
            }
        }
    }
    return [
        cSequential, swiftSequential, cConcurrent, swiftConcurrent, executorSequential, eventsSequential, floorSide,
        decodingFloorSide,
    ]
}

print("Consul agent at \(endpoint), key \(key) (GET \(url))")
let asyncFloor = AsyncFloorExecutor(url: url)
let sides = try await compare(consul, baseline, baselineEvents, baselineMulti, asyncFloor)
report("get, sequential (\(sequentialRequests) requests per round)", sides[0], sides[1])
report("get, sequential on the client's executor (\(sequentialRequests) requests per round)", sides[0], sides[4])
report("get, sequential, libcurl driven as BeaconHTTP drives it, in C", sides[0], sides[5])
report("get, sequential, the least an async Swift client adds to that C loop", sides[5], sides[6])
report("get, sequential, that Swift floor beside the `curl_easy_perform` loop", sides[0], sides[6])
report("get, sequential on the client's executor, beside that Swift floor", sides[6], sides[4])
report("get, sequential, the Swift floor decoding each answer as `get` does, beside that floor", sides[6], sides[7])
report("get, sequential, the decoding Swift floor beside the `curl_easy_perform` loop", sides[0], sides[7])
report(
    "get, \(concurrency) concurrent (\(concurrency) × \(requestsPerTask) requests per round)",
    sides[2],
    sides[3]
)

asyncFloor.stop()
curl_baseline_close(baseline)
curl_baseline_events_close(baselineEvents)
curl_baseline_multi_close(baselineMulti)
try await consul.delete(prefix: "/beacon-benchmarks/")
consul.close()
