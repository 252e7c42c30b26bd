// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@testable import BeaconEtcd

/// Failover across the 3-member cluster of `scripts/servers`. Serialized: it stops and restarts a member.
@Suite("EtcdClient cluster failover", .serialized, .requiresServers, .timeLimit(.minutes(2)))
struct EtcdClusterTests {
    @Test("stopping the member in use: get and an open watch continue on the others, no event lost")
    func failover() async throws {
        let etcd = try EtcdClientTests.client("BEACON_ETCD_CLUSTER_ENDPOINTS")
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("failover")
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 1_000))" }

        try await etcd.put(key(0), "0")
        var iterator = etcd.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.count == 1)

        let member = etcd.currentEndpoint
        let endpoints = try TestServers.value("BEACON_ETCD_CLUSTER_ENDPOINTS").split(separator: ",").map(String.init)
        let index = try #require(endpoints.firstIndex(of: member))
        try TestServers.run("stop", "etcd-member\(index + 1)")
        do {
            // Writes through the client move to a live member; the watch resumes there from its last revision.
            for value in 1..<50 { try await etcd.put(key(value), String(value)) }
            #expect(etcd.currentEndpoint != member)
            #expect(try await etcd.get(key(49))?.string == "49")

            var snapshot = try #require(try await iterator.next())
            while snapshot.count < 50 { snapshot = try #require(try await iterator.next()) }
            #expect(snapshot.map(\.key) == (0..<50).map(key))
            #expect(snapshot.map(\.string) == (0..<50).map(String.init))
        } catch {
            try? TestServers.run("start", "etcd-member\(index + 1)")
            throw error
        }
        try TestServers.run("start", "etcd-member\(index + 1)")
        #expect(try await etcd.delete(prefix: prefix) == 50)
    }
}
