// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import BenchmarkSupport
import Foundation
import Logging
import MemcachedBaseline

// get, set and a 100-key getMulti (its items, their dictionary, and the closure form) through MemcachedPool's
// blocking API, beside a C program calling libmemcached directly with the same options, against the same servers,
// in the same run. Then the async get as a server calls it, from 1, 8 and 64 concurrent tasks over a pool of 4
// connections, beside C with as many threads as connections (see AsyncGets.swift).
// Needs memcached: BEACON_MEMCACHED_ENDPOINTS (scripts/servers start memcached; eval "$(scripts/servers env)").

let endpoints = try Endpoint.list(
    parsing: ProcessInfo.processInfo.environment["BEACON_MEMCACHED_ENDPOINTS"]
        ?? "127.0.0.1:21211,127.0.0.1:21212,127.0.0.1:21213"
)
let blockSize = 500
let multiBlockSize = 50
let keys = (0..<100).map { "beacon-benchmarks:key:\($0)" }
let value = [UInt8](repeating: 0x61, count: 100)

let logger = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
let pool = try MemcachedPool(
    servers: endpoints,
    configuration: MemcachedPool.Configuration(maxConnections: 1),
    logger: logger
)
defer { pool.close() }
try pool.withBlockingConnection { connection in
    for key in keys { try connection.set(key, value: value) }
}

let hosts = endpoints.map { strdup($0.host) }
defer { for host in hosts { free(host) } }
let ports = endpoints.map { Int32($0.port) }
let cKeys = keys.map { UnsafePointer(strdup($0)!) }
defer { for key in cKeys { free(UnsafeMutablePointer(mutating: key)) } }
guard
    let baseline = hosts.map({ UnsafePointer($0!) }).withUnsafeBufferPointer({ hostPointers in
        memcached_baseline_create(hostPointers.baseAddress!, ports, Int32(endpoints.count))
    })
else { fatalError("memcached_baseline_create failed") }
defer { memcached_baseline_free(baseline) }

func nanosecondsDouble(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// The calling thread's CPU time in nanoseconds: the client's own work, without the time spent waiting for the
/// servers (which run on the same machine), so much steadier than the wall clock on a shared machine.
func threadCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// Nanoseconds per operation, on the wall clock and in CPU time of the calling thread.
struct Timing {
    var wall: Double
    var cpu: Double
}

/// Times `operations` runs of `body` through the pool.
func timeSwift(_ operations: Int, _ body: (MemcachedConnection, Int) throws -> Void) throws -> Timing {
    let cpu = threadCPUTime()
    let start = ContinuousClock.now
    for index in 0..<operations {
        try pool.withBlockingConnection { connection in try body(connection, index) }
    }
    let wall = nanosecondsDouble(ContinuousClock.now - start)
    return Timing(wall: wall / Double(operations), cpu: (threadCPUTime() - cpu) / Double(operations))
}

/// Runs the C loop (which times itself on the wall clock).
func timeC(_ operations: Int, _ loop: (Int32) -> Int64) -> Timing {
    let cpu = threadCPUTime()
    let elapsed = loop(Int32(operations))
    let cpuElapsed = threadCPUTime() - cpu
    precondition(elapsed >= 0, "the C baseline failed")
    return Timing(wall: Double(elapsed) / Double(operations), cpu: cpuElapsed / Double(operations))
}

struct Row {
    var name: String
    var swift = Timing(wall: .infinity, cpu: .infinity)
    var c = Timing(wall: .infinity, cpu: .infinity)
    /// Swift's time over C's, block pair by block pair (the two blocks of a pair run back to back).
    var wallRatios: [Double] = []
    var cpuRatios: [Double] = []

    /// Keeps the fastest block of each side, on each clock, and the pair's ratios.
    mutating func record(swift: Timing, c: Timing) {
        self.swift = Timing(wall: min(self.swift.wall, swift.wall), cpu: min(self.swift.cpu, swift.cpu))
        self.c = Timing(wall: min(self.c.wall, c.wall), cpu: min(self.c.cpu, c.cpu))
        self.wallRatios.append(swift.wall / c.wall)
        self.cpuRatios.append(swift.cpu / c.cpu)
    }

    /// The median of the pairs' ratios: a slowdown of the machine that lasts longer than a pair weighs on both of
    /// its blocks alike, so this is the steadiest comparison on a shared machine.
    static func median(_ ratios: [Double]) -> Double {
        let sorted = ratios.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
}

// Short blocks, alternating Swift and C many times. The ratio reported is the median over block pairs (each Swift
// block beside the C block run right after it); the times reported are each side's fastest block, the one least
// disturbed by other processes.
let blocks = 40
let keyCount = Int32(keys.count)
var rows = [
    Row(name: "get"), Row(name: "set"), Row(name: "getMulti (100 keys)"), Row(name: "getMulti .dictionary (100 keys)"),
    Row(name: "getMulti(_:each:) (100 keys)"),
]
for block in 0..<(ProcessInfo.processInfo.environment["MEMCACHED_PROFILE"] == nil ? blocks + 1 : 0) {
    let getSwift = try timeSwift(blockSize) { connection, index in
        let found = try connection.get(keys[index % keys.count])
        precondition(found != nil)
    }
    let getC = timeC(blockSize) { memcached_baseline_get_loop(baseline, cKeys, keyCount, $0) }
    let setSwift = try timeSwift(blockSize) { connection, index in
        try connection.set(keys[index % keys.count], value: value)
    }
    let setC = value.withUnsafeBufferPointer { bytes in
        timeC(blockSize) {
            let pointer = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            return memcached_baseline_set_loop(baseline, cKeys, keyCount, pointer, bytes.count, $0)
        }
    }
    // Every value found is read (its length and first byte), through the items iterated in request order.
    let multiSwift = try timeSwift(multiBlockSize) { connection, _ in
        let found = try connection.getMulti(keys)
        var touched = 0
        for (_, item) in found { touched &+= item.value.count &+ Int(item.value.first ?? 0) }
        precondition(found.count == keys.count && touched == keys.count * (value.count + 0x61))
    }
    let multiC = timeC(multiBlockSize) { memcached_baseline_get_multi_loop(baseline, cKeys, keyCount, $0) }
    // PHP's shape: the same read, then a dictionary by key.
    let dictionarySwift = try timeSwift(multiBlockSize) { connection, _ in
        let found = try connection.getMulti(keys).dictionary
        var touched = 0
        for item in found.values { touched &+= item.value.count &+ Int(item.value.first ?? 0) }
        precondition(found.count == keys.count && touched == keys.count * (value.count + 0x61))
    }
    let dictionaryC = timeC(multiBlockSize) { memcached_baseline_get_multi_loop(baseline, cKeys, keyCount, $0) }
    let eachSwift = try timeSwift(multiBlockSize) { connection, _ in
        var touched = 0
        try connection.getMulti(keys) { _, value in touched &+= value.count &+ Int(value.first ?? 0) }
        precondition(touched == keys.count * (value.count + 0x61))
    }
    let eachC = timeC(multiBlockSize) { memcached_baseline_get_multi_loop(baseline, cKeys, keyCount, $0) }
    if block == 0 { continue }  // warm-up
    rows[0].record(swift: getSwift, c: getC)
    rows[1].record(swift: setSwift, c: setC)
    rows[2].record(swift: multiSwift, c: multiC)
    rows[3].record(swift: dictionarySwift, c: dictionaryC)
    rows[4].record(swift: eachSwift, c: eachC)
}

print(
    "memcached over \(endpoints.count) servers; MemcachedPool (blocking API) vs C libmemcached, "
        + "\(blocks) alternating block pairs: fastest block of each side, and the median of the pairs' ratios "
        + "(wall clock, and the calling thread's CPU time)"
)
for row in rows {
    print(
        "\(row.name): Swift \(String(format: "%.1f", row.swift.wall / 1000)) µs/op (\(String(format: "%.0f", 1e9 / row.swift.wall)) ops/s), "
            + "C \(String(format: "%.1f", row.c.wall / 1000)) µs/op (\(String(format: "%.0f", 1e9 / row.c.wall)) ops/s), "
            + "median ratio \(String(format: "%.2f", Row.median(row.wallRatios))); "
            + "client CPU Swift \(String(format: "%.1f", row.swift.cpu / 1000)) µs/op, "
            + "C \(String(format: "%.1f", row.c.cpu / 1000)) µs/op, "
            + "median ratio \(String(format: "%.2f", Row.median(row.cpuRatios)))"
    )
}

try await compareAsyncGets()
