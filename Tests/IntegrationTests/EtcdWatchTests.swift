// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@testable import BeaconEtcd

/// Watches and registrations against the plain etcd of `scripts/servers`.
@Suite("EtcdClient watch and registration", .requiresServers, .timeLimit(.minutes(2)))
struct EtcdWatchTests {
    @Test("1,000 puts under a prefix are observed in order, none lost")
    func thousandPuts() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("watch")
        let count = 1_000
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 10_000))" }

        var iterator = etcd.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.isEmpty == true)
        let writer = Task {
            for index in 0..<count { try await etcd.put(key(index), String(index)) }
        }
        var seen = 0
        var lastRevision: UInt64 = 0
        while seen < count {
            let snapshot = try #require(try await iterator.next())
            // Whole snapshots of sequential puts: each holds exactly the first n keys, n never decreasing.
            #expect(snapshot.count >= seen)
            #expect(snapshot.map(\.key) == (0..<snapshot.count).map(key))
            #expect(snapshot.map(\.string) == (0..<snapshot.count).map(String.init))
            let revision = snapshot.map(\.version).max() ?? 0
            #expect(revision > lastRevision)
            lastRevision = revision
            seen = snapshot.count
        }
        try await writer.value
        #expect(try await etcd.delete(prefix: prefix) == count)
    }

    /// Compacts the shared etcd through `revision`; another test may have compacted it further already, which
    /// leaves the revision compacted all the same.
    static func compact(_ etcd: EtcdClient, through revision: UInt64) async throws {
        do {
            _ = try await etcd.transport.call(
                "compaction",
                path: "/v3/kv/compaction",
                WireCompactionRequest(revision: WireInt64(Int64(revision))),
                as: WireEmptyResponse.self
            )
        } catch let error as EtcdError where error.code == .compacted {
        }
    }

    @Test("a watch started at a compacted revision lists the prefix again and continues")
    func compactedStart() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("compacted")
        try await etcd.put("\(prefix)a", "1")
        let revision = try await etcd.put("\(prefix)b", "2")
        try await Self.compact(etcd, through: revision)

        var iterator = etcd.watch(prefix: prefix, startRevision: 2).makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.map(\.string) == ["1", "2"])
        try await etcd.put("\(prefix)c", "3")
        let second = try #require(try await iterator.next())
        #expect(second.map(\.string) == ["1", "2", "3"])
        try await etcd.delete(prefix: prefix)
    }

    @Test("a registration exists while alive, is gone at once after cancel, and within the TTL when renewals stop")
    func registration() async throws {
        let etcd = try EtcdClientTests.client()
        // Reads go through another client: ending run() closes the one that registered.
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let service = "beacon-test-\(UUID().uuidString.prefix(8))"
        let instance = ServiceInstance(
            service: service,
            id: "web-1",
            endpoint: Endpoint(host: "10.0.0.7", port: 8080),
            metadata: ["zone": "a"]
        )

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            defer { group.cancelAll() }
            let ttl = TestServers.scaled(.seconds(8))
            let registration = try await etcd.register(instance, ttl: ttl)
            #expect(try await observer.instances(of: service) == [instance])
            // Renewals keep it alive past the TTL (or register it again, had the machine stalled past it). The TTL
            // is long enough for a loaded 2-core machine, where etcd itself has stalled for seconds under the suite.
            let start = ContinuousClock.now
            try await EtcdLifecycleTests.wait { ContinuousClock.now - start > ttl + .seconds(1) }
            try await EtcdLifecycleTests.wait { try await observer.instances(of: service) == [instance] }
            await registration.cancel()
            #expect(try await observer.instances(of: service).isEmpty)
        }

        // A client that stops renewing (its process stalled or died) loses the key when the TTL runs out: close()
        // stops the keep-alive without revoking.
        let other = try EtcdClientTests.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await other.run() }
            _ = try await other.register(instance, ttl: TestServers.scaled(.seconds(8)))
            #expect(try await observer.instances(of: service).count == 1)
            other.close()
        }
        try await EtcdLifecycleTests.wait { try await observer.instances(of: service).isEmpty }
    }

    @Test("a lost lease is re-registered")
    func lostLease() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let service = "beacon-test-\(UUID().uuidString.prefix(8))"
        let instance = ServiceInstance(service: service, id: "a", endpoint: Endpoint(host: "10.0.0.8", port: 80))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            defer { group.cancelAll() }
            let registration = try await etcd.register(instance, ttl: TestServers.scaled(.seconds(8)))
            // Revoke the key's lease behind the registration's back, as if it had expired during a stall.
            let leaseID = try #require(try await etcd.leaseID(ofKey: instance.key()))
            try await etcd.revoke(EtcdLease(id: leaseID, ttl: .seconds(3)))
            try await EtcdLifecycleTests.wait {
                try await etcd.leaseID(ofKey: instance.key()).map { $0 != leaseID } ?? false
            }
            #expect(try await etcd.instances(of: service) == [instance])
            await registration.cancel()
            #expect(try await etcd.instances(of: service).isEmpty)
        }
    }
}
