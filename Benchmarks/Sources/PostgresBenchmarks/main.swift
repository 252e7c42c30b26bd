// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Foundation
import Logging
import PQBaseline

// 1. Connect time: PostgresConnectionFactory.makeConnection() (cache hit, non-blocking libpq connect driven by the poll
//    thread) beside a bare blocking PQconnectdbParams in C, to the same server, alternating rounds.
// 2. Relocation: the time from "B published in discovery" to the first successful query on B, when the cache (TTL 10
//    minutes) still holds a location that refuses connections (a stopped server), beside a plain TTL cache.
// Needs the PostgreSQL clusters of scripts/servers (scripts/servers start postgres; eval "$(scripts/servers env)").

let environment = ProcessInfo.processInfo.environment
let host = environment["BEACON_POSTGRES_A_HOST"] ?? "127.0.0.1"
let portA = environment["BEACON_POSTGRES_A_PORT"] ?? "25432"
let portB = environment["BEACON_POSTGRES_B_PORT"] ?? "25433"
let user = environment["BEACON_POSTGRES_APP_USER"] ?? "beacon"
let password = environment["BEACON_POSTGRES_APP_PASSWORD"] ?? "beacon-app-pw"
let database = environment["BEACON_POSTGRES_DATABASE"] ?? "beacon"
let logger = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })

func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

func percentile(_ values: [Int64], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1_000_000
}

func format(_ milliseconds: Double) -> String { String(format: "%.3f ms", milliseconds) }

/// Blocking PQconnectdbParams + PQfinish in C, `iterations` times.
func baseline(port: String, iterations: Int) -> [Int64] {
    let options = [
        ("host", host), ("hostaddr", host), ("port", port), ("dbname", database), ("user", user),
        ("password", password),
    ]
    let keywords = options.map { strdup($0.0) } + [nil]
    let values = options.map { strdup($0.1) } + [nil]
    defer {
        for pointer in keywords + values { free(pointer) }
    }
    var latencies = [Int64](repeating: 0, count: iterations)
    let failed = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
        values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
            keywordPointers.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>.self, capacity: options.count + 1) {
                keywords in
                valuePointers.baseAddress!.withMemoryRebound(
                    to: UnsafePointer<CChar>.self,
                    capacity: options.count + 1
                ) { values in
                    pq_baseline_connect_loop(keywords, values, Int32(iterations), &latencies)
                }
            }
        }
    }
    precondition(failed == 0, "the C baseline could not connect to \(host):\(port)")
    return latencies
}

func value(port: String) -> String {
    #"{"host": "\#(host)", "port": \#(port), "database": "\#(database)", "user": "\#(user)", "password": "\#(password)"}"#
}

// MARK: 1. Connect time

func compareConnect(cluster: String, port: String, rounds: Int, iterations: Int) async throws {
    let source = CachingSource(StaticSource(["/db/main": value(port: port)]), configuration: .init(ttl: .seconds(600)))
    let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
    for _ in 0..<20 { try await factory.makeConnection().close() }
    _ = baseline(port: port, iterations: 20)
    var subject: [Int64] = []
    var floor: [Int64] = []
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        for _ in 0..<iterations {
            let start = clock.now
            let connection = try await factory.makeConnection()
            subject.append(nanoseconds(start.duration(to: clock.now)))
            connection.close()
        }
        floor += baseline(port: port, iterations: iterations)
    }
    let mean = { (values: [Int64]) in Double(values.reduce(0, +)) / Double(values.count) / 1_000_000 }
    print(
        "connect to \(cluster): factory p50 \(format(percentile(subject, 0.5))), mean \(format(mean(subject))); "
            + "bare PQconnectdbParams p50 \(format(percentile(floor, 0.5))), mean \(format(mean(floor))); "
            + "ratio p50 \(String(format: "%.3f", percentile(subject, 0.5) / percentile(floor, 0.5))), "
            + "mean \(String(format: "%.3f", mean(subject) / mean(floor)))"
    )
}

try await compareConnect(cluster: "A (trust)", port: portA, rounds: 5, iterations: 100)
try await compareConnect(cluster: "B (SCRAM)", port: portB, rounds: 5, iterations: 60)

// MARK: 2. Relocation

/// A port that refuses connections, standing for the stopped server A.
func refusedPort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))  // bound, not listening: connections are refused
}

let gone = refusedPort()
var relocations: [Int64] = []
for _ in 0..<50 {
    let discovery = StaticSource(["/db/main": value(port: String(gone))])
    let source = CachingSource(discovery, configuration: .init(ttl: .seconds(600)))
    _ = try await source.get("/db/main")  // the app has been using A: its location is cached for 10 minutes
    let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
    let start = ContinuousClock.now
    discovery.set("/db/main", to: value(port: portB))  // B published
    let connection = try await factory.makeConnection()
    let rows = try await connection.query("SELECT 1")
    precondition(rows.count == 1)
    relocations.append(nanoseconds(ContinuousClock.now - start))
    connection.close()
}
print(
    "relocation (B published -> first query on B, 50 runs): p50 \(format(percentile(relocations, 0.5))), "
        + "p99 \(format(percentile(relocations, 0.99))), max \(format(percentile(relocations, 1)))"
)
print("plain TTL cache (TTL 600 s): up to 600 s (the remaining TTL; 300 s on average)")
