// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import BenchmarkSupport
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// What keeping registrations alive costs, as their number grows: one EtcdClient (its run() keeping the leases alive)
// registers 1, 100 and 1,000 instances, (a) as single registrations, each on its own lease, and (b) as one group
// registration, all on one lease. For each, after every instance is registered, it measures over a fixed window:
//
// - the keep-alive requests per second etcd received: the rise of etcd's `etcd_debugging_lease_renewed_total` (on
//   the leader's `/metrics`: every lease renewal it saw) across the window. The counter is the server's: renewals by
//   other clients of the same etcd count too, so the benchmark prints the leases held by others at the start, and the
//   figure one would expect from the client alone (leases × window ÷ a third of the TTL);
// - the client process's CPU time (user + system, getrusage) across the window, as a percentage of one core;
// - the time to register every instance (single registrations one after the other from one task; the group in one
//   call).
//
// The TTL is short (5 s, renewed every 1.67 s) so that many renewals fall into the window. Keys live under a prefix of
// their own, removed at the end. Prints a table and writes Benchmarks/results/registrations.csv (CurveTable).
// Needs a running etcd: BEACON_ETCD_ENDPOINT (eval "$(scripts/servers env)"). REGISTRATION_BENCHMARK_WINDOW changes
// the window (seconds, default 20).

let endpoint = ProcessInfo.processInfo.environment["BEACON_ETCD_ENDPOINT"] ?? "http://127.0.0.1:23790"
let window = Duration.seconds(Int(ProcessInfo.processInfo.environment["REGISTRATION_BENCHMARK_WINDOW"] ?? "") ?? 20)
let ttl = Duration.seconds(5)
let sizes = [1, 100, 1_000]
let prefix = "/beacon-benchmarks/registrations-\(UUID().uuidString.prefix(8))"

var configuration = EtcdClient.Configuration(endpoints: [endpoint])
configuration.servicePrefix = prefix
let etcd = try EtcdClient(configuration: configuration)
let observer = try EtcdClient(configuration: .init(endpoints: [endpoint]))

/// The body of a GET (or, with a body, a POST) to the etcd member.
func fetch(_ path: String, post body: String? = nil) async throws -> Data {
    guard let url = URL(string: endpoint + path) else { throw Unexpected(description: "bad URL \(endpoint + path)") }
    var request = URLRequest(url: url)
    if let body {
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
    }
    return try await URLSession.shared.data(for: request).0
}

/// `etcd_debugging_lease_renewed_total` from the member's metrics.
func renewedLeases() async throws -> Double {
    let data = try await fetch("/metrics")
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n")
    where line.hasPrefix("etcd_debugging_lease_renewed_total ") {
        if let value = Double(line.split(separator: " ").last ?? "") { return value }
    }
    throw Unexpected(description: "etcd's /metrics has no etcd_debugging_lease_renewed_total")
}

/// How many leases etcd holds, whoever granted them (etcd's lease list).
func leaseCount() async throws -> Int {
    let object = try JSONSerialization.jsonObject(with: try await fetch("/v3/lease/leases", post: "{}"))
    return ((object as? [String: Any])?["leases"] as? [Any])?.count ?? 0
}

struct Unexpected: Error, CustomStringConvertible {
    var description: String
}

/// The figures of one case.
struct Measurement {
    var keepAlivesPerSecond: Double
    var cpuPercent: Double
    var registrationMilliseconds: Double
}

/// Registers `count` instances (`group`: in one group registration; otherwise one by one), measures the window, and
/// withdraws them.
func measure(count: Int, group: Bool) async throws -> Measurement {
    let service = group ? "group-\(count)" : "single-\(count)"
    let instances = (0..<count).map { index in
        ServiceInstance(service: service, id: "i-\(index)", endpoint: Endpoint(host: "10.0.0.7", port: 10_000 + index))
    }
    let start = ContinuousClock.now
    var withdraw: [@Sendable () async -> Void] = []
    if group {
        let registration = try await etcd.register(group: instances, ttl: ttl)
        withdraw.append { await registration.cancel() }
    } else {
        for instance in instances {
            let registration = try await etcd.register(instance, ttl: ttl)
            withdraw.append { await registration.cancel() }
        }
    }
    let registration = ContinuousClock.now - start
    let listed = try await etcd.instances(of: service).count
    precondition(listed == count, "\(service): \(listed) instances listed, \(count) registered")

    let others = try await leaseCount() - (group ? 1 : count)
    let renewedBefore = try await renewedLeases()
    let cpuBefore = processCPUMicroseconds()
    let windowStart = ContinuousClock.now
    try await Task.sleep(for: window)
    let elapsed = ContinuousClock.now - windowStart
    let cpu = processCPUMicroseconds() - cpuBefore
    let renewed = try await renewedLeases() - renewedBefore

    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let leases = group ? 1 : count
    let expected = Double(leases) * seconds / (5.0 / 3)
    print(
        "\(service): \(Int(renewed)) renewals in \(String(format: "%.1f", seconds)) s (about \(Int(expected)) "
            + "expected from this client; \(others) leases held by others at the start)"
    )
    await withDiscardingTaskGroup { tasks in
        for action in withdraw { tasks.addTask { await action() } }
    }
    let left = try await etcd.instances(of: service).count
    precondition(left == 0, "\(service): \(left) instances left after withdrawing")
    return Measurement(
        keepAlivesPerSecond: renewed / seconds,
        cpuPercent: cpu / (seconds * 1e6) * 100,
        registrationMilliseconds: Double(registration.components.seconds) * 1e3
            + Double(registration.components.attoseconds) / 1e15
    )
}

print("etcd at \(endpoint); TTL \(ttl), window \(window); keys under \(prefix)/")
var curve = CurveTable(
    name: "registrations",
    columns: [
        "instances",
        "single_keepalives_per_s", "group_keepalives_per_s",
        "single_cpu_percent", "group_cpu_percent",
        "single_register_ms", "group_register_ms",
    ]
)
try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { await etcd.run() }
    for size in sizes {
        let single = try await measure(count: size, group: false)
        let group = try await measure(count: size, group: true)
        curve.add([
            Double(size),
            single.keepAlivesPerSecond, group.keepAlivesPerSecond,
            single.cpuPercent, group.cpuPercent,
            single.registrationMilliseconds, group.registrationMilliseconds,
        ])
    }
    tasks.cancelAll()
}
try await observer.delete(prefix: prefix + "/")
observer.close()
curve.finish()
