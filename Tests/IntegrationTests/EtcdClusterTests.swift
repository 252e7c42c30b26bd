// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@testable import BeaconEtcd

/// Failover across the 3-member cluster of `scripts/servers`. Serialized: it stops, restarts and freezes members.
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
        try await TestServers.runInBackground("stop", "etcd-member\(index + 1)")
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
            try? await TestServers.runInBackground("start", "etcd-member\(index + 1)")
            throw error
        }
        try await TestServers.runInBackground("start", "etcd-member\(index + 1)")
        #expect(try await etcd.delete(prefix: prefix) == 50)
    }

    @Test("freezing the member a watch is on: the watch's health check moves it to another member, no event lost")
    func frozenMember() async throws {
        let endpoints = try TestServers.value("BEACON_ETCD_CLUSTER_ENDPOINTS").split(separator: ",").map(String.init)
        let watcher = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { watcher.close() }
        let prefix = TestServers.uniquePrefix("frozen")
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 1_000))" }

        try await watcher.put(key(0), "0")
        var iterator = watcher.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.count == 1)

        // A frozen member keeps its connections open and answers nothing: only the watch's health check notices.
        let member = watcher.currentEndpoint
        let index = try #require(endpoints.firstIndex(of: member))
        let writer = try EtcdClient(configuration: .init(endpoints: endpoints.filter { $0 != member }))
        defer { writer.close() }
        try await TestServers.runInBackground("freeze", "etcd-member\(index + 1)")
        do {
            for value in 1...10 { try await Self.putRetrying(writer, key(value), String(value)) }
            var snapshot = try #require(try await iterator.next())
            while snapshot.count < 11 { snapshot = try #require(try await iterator.next()) }
            #expect(snapshot.map(\.key) == (0...10).map(key))
            #expect(snapshot.map(\.string) == (0...10).map(String.init))
        } catch {
            try? await TestServers.runInBackground("thaw", "etcd-member\(index + 1)")
            throw error
        }
        try await TestServers.runInBackground("thaw", "etcd-member\(index + 1)")
        #expect(try await writer.delete(prefix: prefix) == 11)
    }

    /// Puts through `client`, retrying while the cluster elects a new leader (the frozen member may have led it).
    static func putRetrying(_ client: EtcdClient, _ key: String, _ value: String) async throws {
        var attempt = 0
        while true {
            do {
                try await client.put(key, value)
                return
            } catch {
                attempt += 1
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
