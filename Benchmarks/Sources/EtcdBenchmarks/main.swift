// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import CurlBaseline
import Foundation

// etcd `get` through EtcdClient beside the floor for this protocol (the same range request in a plain C
// libcurl loop over one kept-alive connection), and watch propagation (put -> snapshot delivered).
// Needs a running etcd: BEACON_ETCD_ENDPOINT (scripts/servers start etcd-single; eval "$(scripts/servers env)").

let endpoint = ProcessInfo.processInfo.environment["BEACON_ETCD_ENDPOINT"] ?? "http://127.0.0.1:23790"
let iterations = 5_000
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

// 1. C floor.
let body = #"{"key":"\#(Data(key.utf8).base64EncodedString())"}"#
var baselineLatencies = [Int64](repeating: 0, count: iterations)
_ = curl_baseline_post_loop("\(endpoint)/v3/kv/range", body, 500, &baselineLatencies)  // warm-up
let baselineStart = ContinuousClock.now
let baselineCPUStart = processCPUMicroseconds()
let code = curl_baseline_post_loop("\(endpoint)/v3/kv/range", body, Int32(iterations), &baselineLatencies)
let baselineElapsed = ContinuousClock.now - baselineStart
let baselineCPU = (processCPUMicroseconds() - baselineCPUStart) / Double(iterations)
precondition(code == 0, "the C baseline failed with CURLcode \(code)")

// 2. EtcdClient.get, sequential, same connection reuse. Off the main actor, as a server's request handlers run:
// top-level code is main-actor isolated, and on Linux every resumption onto the main queue goes through a
// dispatch worker thread, which would add a thread hop per request that no server pays.
@concurrent
func measureClient(_ etcd: EtcdClient) async throws -> (latencies: [Int64], elapsed: Duration) {
    for _ in 0..<500 { _ = try await etcd.get(key) }
    var latencies: [Int64] = []
    latencies.reserveCapacity(iterations)
    let clientStart = ContinuousClock.now
    for _ in 0..<iterations {
        let start = ContinuousClock.now
        let value = try await etcd.get(key)
        let elapsed = ContinuousClock.now - start
        precondition(value != nil)
        latencies.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    return (latencies, ContinuousClock.now - clientStart)
}

let clientCPUStart = processCPUMicroseconds()
let (clientLatencies, clientElapsed) = try await measureClient(etcd)
let clientCPU = (processCPUMicroseconds() - clientCPUStart) / Double(iterations)

let floor = report("C libcurl range loop (floor)", baselineLatencies, elapsed: baselineElapsed)
let client = report("EtcdClient.get", clientLatencies, elapsed: clientElapsed)
print(
    "EtcdClient.get vs floor: p50 ratio \(String(format: "%.2f", client.p50 / floor.p50)), "
        + "p99 ratio \(String(format: "%.2f", client.p99 / floor.p99)), "
        + "throughput ratio \(String(format: "%.2f", floor.rate / client.rate))"
)
print(
    "CPU time of this process per request: C loop \(String(format: "%.1f", baselineCPU)) µs, "
        + "EtcdClient.get \(String(format: "%.1f", clientCPU)) µs"
)

// 3. Watch propagation: put -> the snapshot holding it is delivered (off the main actor too).
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
etcd.shutdown()
