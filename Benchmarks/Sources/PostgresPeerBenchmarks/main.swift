// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import BenchmarkSupport
import Foundation
import Logging
import PostgresNIO

// PostgreSQL round trips through BeaconPostgres's PostgresConnectionPool beside postgres-nio's PostgresClient, the
// pool a Swift server would otherwise use: the same statement (`SELECT $1::int`, one parameter, one row of one column,
// decoded as an integer), to the same server (cluster A of scripts/servers, trust authentication), with the same
// pool size (4 connections, opened before the rounds), in alternating rounds: sequential from one task, then
// 16 concurrent tasks sharing the 4 connections. No TLS on either side.
// Needs the PostgreSQL clusters of scripts/servers (eval "$(scripts/servers env)").
//
// POSTGRES_PEER_BENCHMARK_SIDES runs only some sides and parts, for a profiler: comma-separated, from `beacon` and
// `peer` (default both) and `sequential` and `concurrent` (default both); e.g. `beacon,concurrent`.

let environment = ProcessInfo.processInfo.environment
let host = environment["BEACON_POSTGRES_A_HOST"] ?? "127.0.0.1"
let port = Int(environment["BEACON_POSTGRES_A_PORT"] ?? "25432")!
let user = environment["BEACON_POSTGRES_APP_USER"] ?? "beacon"
let password = environment["BEACON_POSTGRES_APP_PASSWORD"] ?? "beacon-app-pw"
let database = environment["BEACON_POSTGRES_DATABASE"] ?? "beacon"
let logger = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })

let connections = 4
let concurrency = 16
let rounds = Int(environment["POSTGRES_PEER_BENCHMARK_ROUNDS"] ?? "7")!
let sequentialRequests = 4_000
let requestsPerTask = 500

let selection = Set((environment["POSTGRES_PEER_BENCHMARK_SIDES"] ?? "").split(separator: ",").map(String.init))

/// Whether the selection includes a side or part: named, or no name of its group given.
func selected(_ name: String) -> Bool {
    let group = ["beacon", "peer"].contains(name) ? ["beacon", "peer"] : ["sequential", "concurrent"]
    return selection.contains(name) || selection.isDisjoint(with: group)
}

// Beacon: the pool over a factory that reads the location from discovery through the cache (a cache hit per new
// connection; none is made during the rounds).
let location =
    #"{"host": "\#(host)", "port": \#(port), "database": "\#(database)", "user": "\#(user)", "password": "\#(password)"}"#
let source = CachingSource(StaticSource(["/db/main": location]), configuration: .init(ttl: .seconds(600)))
let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: logger)
let pool = PostgresConnectionPool(factory: factory, configuration: .init(maxConnections: connections), logger: logger)

// The peer: PostgresClient with its defaults but the pool size and TLS.
var peerConfiguration = PostgresClient.Configuration(
    host: host,
    port: port,
    username: user,
    password: password,
    database: database,
    tls: .disable
)
peerConfiguration.options.maximumConnections = connections
let client = PostgresClient(configuration: peerConfiguration, backgroundLogger: logger)

/// One round trip through Beacon's pool.
@Sendable
func beaconCall() async throws {
    let value = try await pool.withConnection { connection in
        try await connection.query("SELECT $1::int", [42]).first!.decode(Int.self, column: 0)
    }
    precondition(value == 42)
}

/// The same round trip through postgres-nio's client, as its documentation shows it: an interpolated parameter, and
/// the rows decoded from the row sequence.
@Sendable
func peerCall() async throws {
    let parameter: Int32 = 42
    let rows = try await client.query("SELECT \(parameter)::int")
    var value: Int32 = 0
    for try await column in rows.decode(Int32.self) { value = column }
    precondition(value == 42)
}

@concurrent
func compare() async throws -> [Side] {
    // Warm-up: both pools open their 4 connections, and the rest of the path runs a while.
    for call in [beaconCall, peerCall] {
        _ = try await timeConcurrentCalls(tasks: concurrency, count: 100, call)
        _ = try await timeSequentialCalls(500, call)
    }
    var beaconSequential = Side("BeaconPostgres `PostgresConnectionPool`, 1 task")
    var peerSequential = Side("postgres-nio 1.33.2 `PostgresClient`, 1 task")
    var beaconConcurrent = Side("BeaconPostgres `PostgresConnectionPool`, \(concurrency) tasks")
    var peerConcurrent = Side("postgres-nio 1.33.2 `PostgresClient`, \(concurrency) tasks")
    for _ in 0..<rounds {
        if selected("sequential") {
            if selected("peer") {
                try await peerSequential.measure { try await timeSequentialCalls(sequentialRequests, peerCall) }
            }
            if selected("beacon") {
                try await beaconSequential.measure { try await timeSequentialCalls(sequentialRequests, beaconCall) }
            }
        }
        if selected("concurrent") {
            if selected("peer") {
                try await peerConcurrent.measure {
                    try await timeConcurrentCalls(tasks: concurrency, count: requestsPerTask, peerCall)
                }
            }
            if selected("beacon") {
                try await beaconConcurrent.measure {
                    try await timeConcurrentCalls(tasks: concurrency, count: requestsPerTask, beaconCall)
                }
            }
        }
    }
    return [peerSequential, beaconSequential, peerConcurrent, beaconConcurrent]
}

print("PostgreSQL at \(host):\(port) (trust), `SELECT $1::int`, \(connections) connections on each side")
let sides = try await withThrowingDiscardingTaskGroup { group in
    group.addTask { await client.run() }
    let sides = try await compare()
    group.cancelAll()
    return sides
}
pool.close()

reportPeer("round trip, sequential (\(sequentialRequests) requests per round)", peer: sides[0], ours: sides[1])
reportPeer(
    "round trip, \(concurrency) tasks on \(connections) connections (\(concurrency) × \(requestsPerTask) requests per round)",
    peer: sides[2],
    ours: sides[3]
)

if sides.allSatisfy({ !$0.rounds.isEmpty }) {
    var curve = CurveTable(
        name: "postgres-peer",
        columns: [
            "tasks", "beacon_p50_us", "postgres_nio_p50_us", "beacon_requests_per_s", "postgres_nio_requests_per_s",
        ]
    )
    for (tasks, peer, ours) in [(1, sides[0], sides[1]), (concurrency, sides[2], sides[3])] {
        curve.add([Double(tasks), ours.median(\.p50), peer.median(\.p50), ours.median(\.rate), peer.median(\.rate)])
    }
    curve.finish()
}
