// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import BenchmarkSupport
import Foundation
import Logging
import Synchronization

// A DynamicMemcachedPool rebuilt while it serves: server lists of 10, 100 and 1,000 entries, of which only the three
// test servers are real; the others are loopback ports nothing listens on (127.0.0.1, from 41000 up, checked free),
// which building a pool must not connect to. Each rebuild swaps one unused entry for another, so a new pool is built
// every time. Meanwhile 8 tasks read keys that sit on the real servers in every list, without pause; the benchmark
// reports how long each update (build and swap) takes, and what the reads saw meanwhile: how many failed (the goal is
// none) and how long the slowest took. Consistent hashing first (libmemcached's ring takes at most 100 servers: a
// list of 1,000 is refused), then modula (whose placement of the real servers' keys a changed unused entry leaves
// alone, since the list keeps its length and the real servers their places).
//
// Needs memcached: BEACON_MEMCACHED_ENDPOINTS (scripts/servers start memcached; eval "$(scripts/servers env)").

let real = try Endpoint.list(
    parsing: ProcessInfo.processInfo.environment["BEACON_MEMCACHED_ENDPOINTS"]
        ?? "127.0.0.1:21211,127.0.0.1:21212,127.0.0.1:21213"
)
let rebuilds = 20
let readers = 8

/// Loopback ports nothing listens on, from `/proc/net/tcp` and `/proc/net/tcp6` (read, not probed: the benchmark
/// itself connects to none of them, so that a trace of its connects shows the pools never do).
func unusedPorts(count: Int, from first: Int) -> [Int] {
    var listening = Set<Int>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // local_address is ADDRESS:PORT in hex; state 0A is LISTEN.
            guard fields.count > 3, fields[3] == "0A", let port = fields[1].split(separator: ":").last else {
                continue
            }
            if let value = Int(port, radix: 16) { listening.insert(value) }
        }
    }
    return Array((first...).lazy.filter { !listening.contains($0) }.prefix(count))
}

/// The list of a rebuild: the real servers, then `size - 3` unused ports starting at `shift` in `spare`.
func serverList(size: Int, shift: Int, spare: [Int]) -> [Endpoint] {
    real + (0..<(size - real.count)).map { Endpoint(host: "127.0.0.1", port: spare[shift + $0]) }
}

/// Tells the readers to stop.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { self.flag.load(ordering: .relaxed) }

    func set() { self.flag.store(true, ordering: .relaxed) }
}

/// What the readers saw.
final class ReadTally: Sendable {
    private struct Counts {
        var reads = 0
        var failures = 0
        var latencies: [Int64] = []
    }
    private let counts = Mutex(Counts())

    func record(_ nanoseconds: Int64, failed: Bool) {
        self.counts.withLock { counts in
            counts.reads += 1
            if failed { counts.failures += 1 }
            counts.latencies.append(nanoseconds)
        }
    }

    var summary: (reads: Int, failures: Int, p99: Double, max: Double) {
        self.counts.withLock { counts in
            let sorted = counts.latencies.sorted()
            return (counts.reads, counts.failures, percentile(sorted, 0.99), Double(sorted.last ?? 0) / 1_000)
        }
    }
}

let logger = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
/// Rebuilds a dynamic pool over lists of `size` entries while readers read; returns the curve's row.
@concurrent
func measure(size: Int, distribution: MemcachedDistribution) async throws -> [Double] {
    let spare = unusedPorts(count: size + rebuilds, from: 41_000)
    let lists = (0...rebuilds).map { serverList(size: size, shift: $0, spare: spare) }
    let dynamic = DynamicMemcachedPool(
        source: StaticSource(),
        servers: .prefix("/services/memcached/"),
        configuration: .init(pool: .init(distribution: distribution, maxConnections: 4)),
        logger: logger
    )
    // Keys that sit on a real server in every list the benchmark will use.
    var keys: [String] = []
    var probes: [MemcachedPool] = []
    for list in lists {
        probes.append(
            try MemcachedPool(servers: list, configuration: .init(distribution: distribution), logger: logger)
        )
    }
    var candidate = 0
    while keys.count < 50 && candidate < 200_000 {
        let key = "beacon-rebuild:\(candidate)"
        if try probes.allSatisfy({ real.contains(try $0.server(forKey: key)) }) { keys.append(key) }
        candidate += 1
    }
    for probe in probes { probe.close() }
    precondition(!keys.isEmpty, "no key sits on a real server in every list")

    _ = try dynamic.update(servers: lists[0])
    let value = Array("v".utf8)
    for key in keys { try await dynamic.set(key, value: value) }

    let tally = ReadTally()
    let readKeys = keys
    let stop = StopFlag()
    var updates: [Double] = []
    try await withThrowingTaskGroup { group in
        for reader in 0..<readers {
            group.addTask {
                var index = reader
                while !stop.isSet {
                    let start = ContinuousClock.now
                    let found = try? await dynamic.get(readKeys[index % readKeys.count])
                    tally.record(nanoseconds(ContinuousClock.now - start), failed: found == nil)
                    index += readers
                }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        for list in lists.dropFirst() {
            let start = ContinuousClock.now
            let changed = try dynamic.update(servers: list)
            updates.append(Double(nanoseconds(ContinuousClock.now - start)) / 1e6)
            precondition(changed, "every list differs from the one before")
            try await Task.sleep(for: .milliseconds(20))
        }
        stop.set()
        try await group.waitForAll()
    }
    dynamic.close()
    let reads = tally.summary
    print(
        "\(distribution), \(size) servers: update (build and swap) median \(format(median(updates), 2)) ms, max "
            + "\(format(updates.max() ?? 0, 2)) ms over \(rebuilds) rebuilds; \(reads.reads) reads meanwhile, "
            + "\(reads.failures) failed, p99 \(format(reads.p99)) µs, slowest \(format(reads.max)) µs"
    )
    return [
        Double(size), median(updates), updates.max() ?? 0, Double(reads.reads), Double(reads.failures), reads.p99,
        reads.max,
    ]
}

for distribution in [MemcachedDistribution.consistent, .modula] {
    var curve = CurveTable(
        name: "memcached-rebuild-\(distribution)",
        columns: [
            "servers", "update_ms_median", "update_ms_max", "reads", "failed_reads", "read_p99_us", "read_max_us",
        ]
    )
    for size in [10, 100, 1_000] {
        guard distribution == .modula || size <= 100 else {
            // libmemcached's ring holds 100 servers; the pool refuses more (the process would abort).
            let list = serverList(size: size, shift: 0, spare: unusedPorts(count: size, from: 41_000))
            do {
                _ = try MemcachedPool(servers: list, logger: logger)
            } catch {
                print("\(distribution), \(size) servers: refused: \(error)")
            }
            continue
        }
        curve.add(try await measure(size: size, distribution: distribution))
    }
    curve.finish()
}
