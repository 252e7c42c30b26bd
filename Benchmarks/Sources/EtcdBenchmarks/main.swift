// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import CurlBaseline
import Foundation

// etcd `get` through EtcdClient beside the floor for this protocol (the same range request in a plain C
// libcurl loop over one kept-alive connection), in alternating rounds, with the process's CPU time per request;
// then watch propagation (put -> snapshot delivered).
// Needs a running etcd: BEACON_ETCD_ENDPOINT (scripts/servers start etcd-single; eval "$(scripts/servers env)").

let endpoint = ProcessInfo.processInfo.environment["BEACON_ETCD_ENDPOINT"] ?? "http://127.0.0.1:23790"
let iterations = 10_000
let key = "/beacon-benchmarks/db/main/endpoint"

/// The process's CPU time (user + system) so far, in microseconds: all threads, the I/O thread included.
func processCPUMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
    Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1_000
}

func report(_ name: String, _ latencies: [Int64], elapsed: Duration) -> (p50: Double, p99: Double, rate: Double) {
    let sorted = latencies.sorted()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let result = (percentile(sorted, 0.5), percentile(sorted, 0.99), Double(latencies.count) / seconds)
    print(
        "\(name): p50 \(String(format: "%.1f", result.0)) µs, p99 \(String(format: "%.1f", result.1)) µs, "
            + "\(String(format: "%.0f", result.2)) requests/s"
    )
    return result
}

let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]))
try await etcd.put(key, "10.0.0.5:5432")

// The opt-in "shared" side (ETCD_BENCHMARK_SIDES=floor,pool,shared): a client on an HTTPIOThread that a second
// client, with an idle watch open, shares.
let ioThread = HTTPIOThread()
var sharedConfiguration = EtcdClient.Configuration(endpoints: [endpoint])
sharedConfiguration.ioThread = ioThread
let sharedEtcd = try EtcdClient(configuration: sharedConfiguration)
let neighbour = try EtcdClient(configuration: sharedConfiguration)

// 1. The C floor and EtcdClient.get (from the concurrency pool, and on the client's task executor), in alternating
// rounds of 500 sequential requests each, so that a change of load on this shared machine during the run weighs on
// every side alike. Each side keeps its connection alive across rounds; all warm up first.
let rounds = iterations / 500
let body = #"{"key":"\#(Data(key.utf8).base64EncodedString())"}"#
guard let baseline = curl_baseline_open("\(endpoint)/v3/kv/range", body) else {
    fatalError("the C baseline could not create its libcurl handle")
}

/// Runs one round of the C loop; returns its latencies in nanoseconds.
func baselineRound(_ baseline: OpaquePointer, _ count: Int) -> [Int64] {
    var latencies = [Int64](repeating: 0, count: count)
    let code = curl_baseline_run(baseline, Int32(count), &latencies)
    precondition(code == 0, "the C baseline failed with CURLcode \(code)")
    return latencies
}

/// Runs one round of `EtcdClient.get` off the main actor, as a server's request handlers run: top-level code is
/// main-actor isolated, and on Linux every resumption onto the main queue goes through a dispatch worker thread,
/// which would add a thread hop per request that no server pays.
@concurrent
func clientRound(_ etcd: EtcdClient, _ count: Int) async throws -> [Int64] {
    var latencies: [Int64] = []
    latencies.reserveCapacity(count)
    for _ in 0..<count {
        let start = ContinuousClock.now
        let value = try await etcd.get(key)
        let elapsed = ContinuousClock.now - start
        precondition(value != nil)
        latencies.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    return latencies
}

/// One side of the comparison: its latencies, wall-clock time and process CPU time over all its rounds.
struct Side {
    let name: String
    var latencies: [Int64] = []
    var elapsed = Duration.zero
    var cpu = 0.0

    init(_ name: String) { self.name = name }

    /// Runs one round, adding its figures.
    mutating func measure(_ round: () async throws -> [Int64]) async rethrows {
        let start = ContinuousClock.now
        let cpu = processCPUMicroseconds()
        self.latencies += try await round()
        self.elapsed += ContinuousClock.now - start
        self.cpu += processCPUMicroseconds() - cpu
    }
}

/// Runs every side's rounds, alternating, off the main actor.
@concurrent
func compare(_ etcd: EtcdClient, _ baseline: OpaquePointer) async throws -> [Side] {
    _ = baselineRound(baseline, 500)  // warm-up
    _ = try await clientRound(etcd, 500)
    _ = try await withTaskExecutorPreference(etcd.taskExecutor) { try await clientRound(etcd, 500) }
    var floor = Side("C libcurl range loop (floor)")
    var pool = Side("EtcdClient.get from the concurrency pool")
    var executor = Side("EtcdClient.get on etcd.taskExecutor")
    var shared = Side("EtcdClient.get from the pool, on a shared HTTPIOThread")
    // ETCD_BENCHMARK_SIDES=executor (or floor, pool, shared, comma-separated) runs only those sides, for a profiler.
    let sides = ProcessInfo.processInfo.environment["ETCD_BENCHMARK_SIDES"] ?? "floor,pool,executor"
    if sides.contains("shared") {
        _ = try await clientRound(sharedEtcd, 500)
    }
    for _ in 0..<rounds {
        if sides.contains("floor") {
            await floor.measure { baselineRound(baseline, 500) }
        }
        if sides.contains("pool") {
            try await pool.measure { try await clientRound(etcd, 500) }
        }
        if sides.contains("executor") {
            try await executor.measure {
                try await withTaskExecutorPreference(etcd.taskExecutor) { try await clientRound(etcd, 500) }
            }
        }
        if sides.contains("shared") {
            try await shared.measure { try await clientRound(sharedEtcd, 500) }
        }
    }
    return [floor, pool, executor, shared]
}

/// Opens a watch and takes its first snapshot; its stream then stays open, idle, for as long as the iterator lives.
@concurrent
func openIdleWatch(_ etcd: EtcdClient) async throws -> DiscoveryWatch.AsyncIterator {
    var iterator = etcd.watch(prefix: "/beacon-benchmarks/neighbour/").makeAsyncIterator()
    _ = try await iterator.next()
    return iterator
}

// The neighbour's watch stream stays open (and idle) on the shared thread while the sides run.
let neighbourWatch = try await openIdleWatch(neighbour)
let sides = try await compare(etcd, baseline).filter { !$0.latencies.isEmpty }
withExtendedLifetime(neighbourWatch) {}
curl_baseline_close(baseline)
sharedEtcd.close()
neighbour.close()
ioThread.shutdown()

var floor: (p50: Double, p99: Double, rate: Double)?
for side in sides {
    let figures = report(side.name, side.latencies, elapsed: side.elapsed)
    if let floor {
        print(
            "  vs floor: p50 ratio \(String(format: "%.2f", figures.p50 / floor.p50)), "
                + "p99 ratio \(String(format: "%.2f", figures.p99 / floor.p99)), "
                + "throughput ratio \(String(format: "%.2f", floor.rate / figures.rate))"
        )
    } else if side.name.hasPrefix("C ") {
        floor = figures
    }
    print("  CPU time of this process per request: \(String(format: "%.1f", side.cpu / Double(iterations))) µs")
}

// 2. Watch propagation: put -> the snapshot holding it is delivered (off the main actor too).
@concurrent
func measurePropagation(_ etcd: EtcdClient) async throws -> [Int64] {
    let prefix = "/beacon-benchmarks/watch/"
    _ = try await etcd.delete(prefix: prefix)
    var iterator = etcd.watch(prefix: prefix).makeAsyncIterator()
    _ = try await iterator.next()
    var propagation: [Int64] = []
    for index in 0..<1_000 {
        let start = ContinuousClock.now
        try await etcd.put("\(prefix)k", String(index))
        while let snapshot = try await iterator.next(), snapshot.first?.string != String(index) {}
        let elapsed = ContinuousClock.now - start
        propagation.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    return propagation
}

let sortedPropagation = try await measurePropagation(etcd).sorted()
print(
    "watch propagation over 1,000 puts: p50 \(String(format: "%.1f", percentile(sortedPropagation, 0.5))) µs, "
        + "p99 \(String(format: "%.1f", percentile(sortedPropagation, 0.99))) µs (put round trip included)"
)
_ = try await etcd.delete(prefix: "/beacon-benchmarks/")
etcd.close()
