// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import Foundation
import Testing

/// ZooKeeperClient against the three-server ensemble of `scripts/servers`, whose members are stopped and started
/// again one at a time (a quorum remains at every step).
@Suite("ZooKeeperClient against a three-server ensemble", .requiresServers, .serialized, .timeLimit(.minutes(4)))
struct ZooKeeperEnsembleTests {
    /// The `scripts/servers` instance serving an endpoint (`127.0.0.1:21812` -> `zookeeper-member2`).
    static func member(serving endpoint: String) throws -> String {
        for number in 1...3 where try TestServers.value("BEACON_ZOOKEEPER_MEMBER\(number)_ENDPOINT") == endpoint {
            return "zookeeper-member\(number)"
        }
        throw MemberNotFound(endpoint: endpoint)
    }

    struct MemberNotFound: Error {
        var endpoint: String
    }

    /// The member that leads the ensemble now, as `scripts/servers zookeeper-leader` prints it.
    static func leader() async throws -> String {
        try await TestServers.output("zookeeper-leader")
    }

    @Test(
        "stop the client's server, start it again, stop the leader: the session, its watch and its registration carry on, nothing is lost"
    )
    func membersStopAndStart() async throws {
        let ensemble = try TestServers.value("BEACON_ZOOKEEPER_ENSEMBLE")
        let client = try ZooKeeperClientTests.client(servers: ensemble, sessionTimeout: .seconds(6))
        let writer = try ZooKeeperClientTests.client(servers: ensemble, sessionTimeout: .seconds(6))
        let root = ZooKeeperClientTests.uniquePath("ensemble")
        let prefix = "\(root)/"
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 10_000))" }
        let service = "beacon-zk-ensemble-\(UUID().uuidString.prefix(8))"
        let instance = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            _ = try await client.register(instance, ttl: .seconds(6))
            var iterator = client.watch(prefix: prefix).makeAsyncIterator()
            #expect(try await iterator.next()?.isEmpty == true)
            var written = 0
            var seen = 0

            /// Writes the next `count` keys (while a member may be stopping or starting), then follows the watch until
            /// it holds them all, checking that each snapshot holds exactly the first n keys.
            func writeAndFollow(_ count: Int, during change: (@Sendable () async throws -> Void)? = nil) async throws {
                let range = written..<(written + count)
                written += count
                try await withThrowingTaskGroup(of: Void.self) { writes in
                    if let change { writes.addTask { try await change() } }
                    writes.addTask {
                        for index in range { try await writer.put(key(index), String(index)) }
                    }
                    try await writes.waitForAll()
                }
                while seen < written {
                    let snapshot = try #require(try await iterator.next())
                    #expect(snapshot.count >= seen)
                    #expect(snapshot.map(\.key) == (0..<snapshot.count).map(key))
                    seen = snapshot.count
                }
            }

            try await writeAndFollow(20)

            // 1. Stop the server the client is connected to, writing meanwhile; then start it again.
            let connected = try #require(client.currentServer)
            let stopped = try Self.member(serving: connected)
            try await writeAndFollow(40) { try await TestServers.runInBackground("stop", stopped) }
            #expect(client.currentServer != connected)
            try await writeAndFollow(20) { try await TestServers.runInBackground("start", stopped) }

            // 2. Stop the leader, writing meanwhile; then start it again.
            let leader = try await Self.leader()
            try await writeAndFollow(40) { try await TestServers.runInBackground("stop", leader) }
            try await writeAndFollow(20) { try await TestServers.runInBackground("start", leader) }

            // Nothing lost: the watch's last state is the store's, the session never expired, the registration held.
            #expect(try await writer.list(prefix: prefix).map(\.key) == (0..<written).map(key))
            #expect(client.sessionExpirations == 0)
            #expect(try await writer.instances(of: service) == [instance])
            group.cancelAll()
        }
        #expect(try await writer.instances(of: service).isEmpty)
        try await writer.delete(prefix: root)
        try await writer.delete("/services/\(service)")
        await writer.close()
    }
}
