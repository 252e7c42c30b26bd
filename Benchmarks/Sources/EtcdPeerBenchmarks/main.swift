// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Beacon
import BeaconEtcd
import BenchmarkSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

// etcd reads through EtcdClient beside the same requests made with AsyncHTTPClient, the HTTP client a Swift server
// would otherwise use against etcd's JSON gateway: a POST to /v3/kv/range with the same JSON body (base64 keys),
// built with JSONEncoder, and the answer decoded with JSONDecoder into Codable types and then into keys, values and
// revisions, as its users would. Two reads: one key, and a prefix of 100 keys; each sequential from one task, then
// 16 concurrent tasks, in alternating rounds. Both clients speak HTTP/1.1 over kept-alive connections, at most 8 per
// host (both libraries' default), without TLS.
// Needs a running etcd: BEACON_ETCD_ENDPOINT (eval "$(scripts/servers env)").
//
// ETCD_PEER_BENCHMARK_SIDES runs only some sides and parts, for a profiler: comma-separated, from `beacon` and
// `peer` (default both), `get` and `list` (default both), and `sequential` and `concurrent` (default both); e.g.
// `beacon,list,concurrent`.

let environment = ProcessInfo.processInfo.environment
let endpoint = environment["BEACON_ETCD_ENDPOINT"] ?? "http://127.0.0.1:23790"
let rounds = Int(environment["ETCD_PEER_BENCHMARK_ROUNDS"] ?? "7")!
let concurrency = 16
let listSize = 100
let key = "/beacon-benchmarks/peer/db/main/endpoint"
let prefix = "/beacon-benchmarks/peer/list/"

let selection = Set((environment["ETCD_PEER_BENCHMARK_SIDES"] ?? "").split(separator: ",").map(String.init))

/// Whether the selection includes a side or part: named, or no name of its group given.
func selected(_ name: String) -> Bool {
    let groups = [["beacon", "peer"], ["get", "list"], ["sequential", "concurrent"]]
    let group = groups.first { $0.contains(name) }!
    return selection.contains(name) || selection.isDisjoint(with: group)
}

// MARK: The peer: AsyncHTTPClient and Codable

/// The gateway's range request: base64 keys.
struct RangeRequest: Encodable {
    var key: String
    var rangeEnd: String?

    enum CodingKeys: String, CodingKey {
        case key
        case rangeEnd = "range_end"
    }
}

/// The gateway's range answer, as far as a reader needs it: 64-bit integers come as strings.
struct RangeResponse: Decodable {
    struct Header: Decodable {
        var revision: String?
    }
    struct Entry: Decodable {
        var key: String
        var value: String?
        var modRevision: String?

        enum CodingKeys: String, CodingKey {
            case key, value
            case modRevision = "mod_revision"
        }
    }
    var header: Header?
    var kvs: [Entry]?
}

/// An entry as the application uses it.
struct Entry {
    var key: String
    var value: [UInt8]
    var revision: Int64
}

/// The same reads as EtcdClient's, made with AsyncHTTPClient.
struct PeerClient: Sendable {
    let http: HTTPClient
    let url: String
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()

    init(endpoint: String) {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 8)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.url = "\(endpoint)/v3/kv/range"
    }

    /// POSTs one range request and decodes its entries.
    func range(_ body: RangeRequest) async throws -> [Entry] {
        var request = HTTPClientRequest(url: self.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try self.encoder.encode(body)))
        let response = try await self.http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw EtcdPeerError(status: response.status.code) }
        let answer = try self.decoder.decode(RangeResponse.self, from: bytes)
        return (answer.kvs ?? []).map { entry in
            Entry(
                key: String(decoding: Data(base64Encoded: entry.key) ?? Data(), as: UTF8.self),
                value: [UInt8](Data(base64Encoded: entry.value ?? "") ?? Data()),
                revision: Int64(entry.modRevision ?? "0") ?? 0
            )
        }
    }

    /// Reads one key.
    func get(_ key: String) async throws -> Entry? {
        try await self.range(RangeRequest(key: Data(key.utf8).base64EncodedString())).first
    }

    /// Reads every key under a prefix (the prefix's range end: its last byte plus one).
    func list(prefix: String) async throws -> [Entry] {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        return try await self.range(
            RangeRequest(key: Data(prefix.utf8).base64EncodedString(), rangeEnd: Data(end).base64EncodedString())
        )
    }
}

/// A gateway answer other than 200.
struct EtcdPeerError: Error {
    var status: UInt
}

// MARK: The comparison

let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]))
let peer = PeerClient(endpoint: endpoint)

/// Writes the key and the prefix's entries the reads find.
@concurrent
func prepare(_ etcd: EtcdClient) async throws {
    _ = try await etcd.delete(prefix: "/beacon-benchmarks/peer/")
    try await etcd.put(key, "10.0.0.5:5432")
    for index in 0..<listSize {
        try await etcd.put(
            "\(prefix)instance-\(1_000 + index)",
            #"{"host": "10.0.\#(index / 200).\#(index % 200)", "port": 8080}"#
        )
    }
}

/// The four sides of one read: Beacon and the peer, sequential and concurrent.
@concurrent
func compare(
    _ name: String,
    sequentialRequests: Int,
    requestsPerTask: Int,
    beacon: @escaping @Sendable () async throws -> Void,
    peer: @escaping @Sendable () async throws -> Void
) async throws -> [Side] {
    // Warm-up: both clients open their connections, and the rest of the path runs a while.
    for call in [beacon, peer] {
        _ = try await timeConcurrentCalls(tasks: concurrency, count: 50, call)
        _ = try await timeSequentialCalls(300, call)
    }
    var beaconSequential = Side("BeaconEtcd `EtcdClient.\(name)`, 1 task")
    var peerSequential = Side("AsyncHTTPClient 1.37.0 + JSONDecoder, 1 task")
    var beaconConcurrent = Side("BeaconEtcd `EtcdClient.\(name)`, \(concurrency) tasks")
    var peerConcurrent = Side("AsyncHTTPClient 1.37.0 + JSONDecoder, \(concurrency) tasks")
    for _ in 0..<rounds {
        if selected("sequential") {
            if selected("peer") {
                try await peerSequential.measure { try await timeSequentialCalls(sequentialRequests, peer) }
            }
            if selected("beacon") {
                try await beaconSequential.measure { try await timeSequentialCalls(sequentialRequests, beacon) }
            }
        }
        if selected("concurrent") {
            if selected("peer") {
                try await peerConcurrent.measure {
                    try await timeConcurrentCalls(tasks: concurrency, count: requestsPerTask, peer)
                }
            }
            if selected("beacon") {
                try await beaconConcurrent.measure {
                    try await timeConcurrentCalls(tasks: concurrency, count: requestsPerTask, beacon)
                }
            }
        }
    }
    return [peerSequential, beaconSequential, peerConcurrent, beaconConcurrent]
}

print("etcd at \(endpoint), HTTP/1.1 kept alive on both sides")
try await prepare(etcd)
var curve = CurveTable(
    name: "etcd-peer",
    columns: ["tasks", "get_beacon_rps", "get_ahc_rps", "list100_beacon_rps", "list100_ahc_rps"]
)
var curveRows: [[Double]] = [[1], [Double(concurrency)]]

if selected("get") {
    let sides = try await compare(
        "get",
        sequentialRequests: 2_000,
        requestsPerTask: 250,
        beacon: {
            let entry = try await etcd.get(key)
            precondition(entry?.value.count == 13)
        },
        peer: {
            let entry = try await peer.get(key)
            precondition(entry?.value.count == 13)
        }
    )
    reportPeer("get (one key), sequential (2000 requests per round)", peer: sides[0], ours: sides[1])
    reportPeer(
        "get (one key), \(concurrency) tasks (\(concurrency) × 250 requests per round)",
        peer: sides[2],
        ours: sides[3]
    )
    curveRows[0] += [sides[1].median(\.rate), sides[0].median(\.rate)]
    curveRows[1] += [sides[3].median(\.rate), sides[2].median(\.rate)]
}
if selected("list") {
    let sides = try await compare(
        "list(prefix:)",
        sequentialRequests: 500,
        requestsPerTask: 60,
        beacon: {
            let entries = try await etcd.list(prefix: prefix)
            precondition(entries.count == listSize)
        },
        peer: {
            let entries = try await peer.list(prefix: prefix)
            precondition(entries.count == listSize)
        }
    )
    reportPeer("list (\(listSize) keys), sequential (500 requests per round)", peer: sides[0], ours: sides[1])
    reportPeer(
        "list (\(listSize) keys), \(concurrency) tasks (\(concurrency) × 60 requests per round)",
        peer: sides[2],
        ours: sides[3]
    )
    curveRows[0] += [sides[1].median(\.rate), sides[0].median(\.rate)]
    curveRows[1] += [sides[3].median(\.rate), sides[2].median(\.rate)]
}
if curveRows.allSatisfy({ $0.count == curve.columns.count && !$0.contains(where: \.isNaN) }) {
    for row in curveRows { curve.add(row) }
    curve.finish()
}

_ = try await etcd.delete(prefix: "/beacon-benchmarks/peer/")
etcd.close()
try await peer.http.shutdown()
