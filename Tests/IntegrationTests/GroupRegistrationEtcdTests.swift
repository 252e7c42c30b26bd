// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@testable import BeaconEtcd

/// `EtcdClient.register(group:ttl:)` against the plain etcd of `scripts/servers`: one lease for the whole group, kept
/// alive by `run()`, revoked by `cancel()`, replaced (with every key written again) when lost.
@Suite("EtcdClient group registration", .requiresServers, .timeLimit(.minutes(2)))
struct GroupRegistrationEtcdTests {
    static func group(
        _ count: Int,
        service: String = "beacon-group-\(UUID().uuidString.prefix(8))"
    ) -> [ServiceInstance] {
        (0..<count).map { index in
            ServiceInstance(
                service: service,
                id: "i-\(String(index + 1_000).dropFirst())",
                endpoint: Endpoint(host: "10.0.0.7", port: 8_000 + index)
            )
        }
    }

    /// The one lease every instance's key is attached to, once the group is listed whole.
    ///
    /// Read until it holds (or 30 s pass): under the whole suite on the loaded 2-core machine, a read made right
    /// after the registration returned has now and then missed one of its keys or found the first key without the
    /// group's lease. Each key and lease is checked as soon as it is there.
    static func sharedLease(
        of instances: [ServiceInstance],
        service: String,
        in observer: EtcdClient,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Int64 {
        var shared: Int64?
        try await EtcdLifecycleTests.wait(sourceLocation: sourceLocation) {
            guard try await observer.instances(of: service) == instances else { return false }
            let leases = try await Self.leases(of: instances, in: observer)
            guard let first = leases[0], leases.allSatisfy({ $0 == first }) else { return false }
            shared = first
            return true
        }
        return try #require(shared, sourceLocation: sourceLocation)
    }

    /// The lease of each instance's key, in the group's order (`nil` for a missing key).
    static func leases(of instances: [ServiceInstance], in observer: EtcdClient) async throws -> [Int64?] {
        var leases: [Int64?] = []
        for instance in instances { leases.append(try await observer.leaseID(ofKey: instance.key())) }
        return leases
    }

    @Test("the group appears at once on one lease, stays past the TTL, and cancel() removes every key and the lease")
    func appearsSharesOneLeaseAndCancels() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instances = Self.group(3)
        let service = instances[0].service
        let ttl = Duration.seconds(8)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            let registration = try await etcd.register(group: instances, ttl: ttl)
            #expect(registration.instances == instances)
            _ = try await Self.sharedLease(of: instances, service: service, in: observer)

            // Past the TTL, the group is still there: the one lease was renewed (or, had the machine stalled past the
            // TTL, replaced, every key written again on the new one).
            let start = ContinuousClock.now
            try await EtcdLifecycleTests.wait { ContinuousClock.now - start > ttl * 1.5 }
            try await EtcdLifecycleTests.wait { try await observer.instances(of: service) == instances }
            let kept = try await Self.leases(of: instances, in: observer)
            #expect(Set(kept).count == 1)
            let keptLease = try #require(kept[0])

            await registration.cancel()
            #expect(registration.isCancelled)
            #expect(try await observer.instances(of: service).isEmpty)
            #expect(try await !observer.leaseIDs().contains(keptLease))
            group.cancelAll()
        }
    }

    @Test("more instances than one transaction holds share one lease; ending run() revokes it")
    func largeGroupAndRunEnd() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instances = Self.group(300)
        let service = instances[0].service
        var lease: Int64 = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            _ = try await etcd.register(group: instances, ttl: .seconds(10))
            lease = try await Self.sharedLease(of: instances, service: service, in: observer)
            group.cancelAll()
        }
        #expect(try await observer.instances(of: service).isEmpty)
        #expect(try await !observer.leaseIDs().contains(lease))
    }

    @Test("a lost lease is replaced by one new lease holding every key again; single registrations keep their own")
    func lostLeaseRegistersAll() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instances = Self.group(4)
        let service = instances[0].service
        let single = ServiceInstance(service: service, id: "single", endpoint: Endpoint(host: "10.0.0.8", port: 80))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            // Stretched under a sanitizer: the group's keeper must not have renewed (and so replaced the revoked
            // lease) before the first read after the revoke, nor the single lease lapse.
            let ttl = TestServers.scaled(.seconds(8))
            let registration = try await etcd.register(group: instances, ttl: ttl)
            let lost = try await Self.sharedLease(of: instances, service: service, in: observer)
            let singleRegistration = try await etcd.register(single, ttl: ttl)
            let singleLease = try #require(try await observer.leaseID(ofKey: single.key()))
            #expect(singleLease != lost)

            // The cluster loses the group's lease: every key of the group goes at once, the single one stays.
            try await observer.revoke(EtcdLease(id: lost, ttl: ttl))
            #expect(try await observer.instances(of: service) == [single])

            // The next renewal finds the lease gone, grants a new one and writes every key on it.
            try await EtcdLifecycleTests.wait {
                try await observer.instances(of: service) == instances + [single]
            }
            let leases = try await Self.leases(of: instances, in: observer)
            let fresh = try #require(leases[0])
            #expect(fresh != lost)
            #expect(leases.allSatisfy { $0 == fresh })
            #expect(try await observer.leaseID(ofKey: single.key()) == singleLease)

            await registration.cancel()
            #expect(try await observer.instances(of: service) == [single])
            await singleRegistration.cancel()
            group.cancelAll()
        }
    }

    @Test("errors name the instance or the keys, and a failed group leaves nothing behind")
    func errorsNameTheInstance() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        var instances = Self.group(2)
        let service = instances[0].service

        let repeated = await #expect(throws: BeaconError.self) {
            try await etcd.register(group: instances + [instances[1]], ttl: .seconds(8))
        }
        #expect(repeated?.code == .invalidValue)
        #expect(repeated?.message.contains("\(service)/i-001") == true)

        let invalid = await #expect(throws: BeaconError.self) {
            try await etcd.register(
                group: [instances[0], ServiceInstance(service: service, id: "a/b", endpoint: instances[0].endpoint)],
                ttl: .seconds(8)
            )
        }
        #expect(invalid?.code == .invalidKey)
        #expect(invalid?.text == "a/b")

        let empty = await #expect(throws: BeaconError.self) { try await etcd.register(group: [], ttl: .seconds(8)) }
        #expect(empty?.code == .invalidValue)

        // A value larger than etcd accepts in one request: the transaction fails, naming its keys, and nothing is
        // left registered.
        instances[1].metadata = ["padding": String(repeating: "x", count: 2 * 1_024 * 1_024)]
        let tooLarge = await #expect(throws: EtcdError.self) {
            try await etcd.register(group: instances, ttl: .seconds(8))
        }
        #expect(tooLarge?.message.contains(instances[0].key()) == true)
        #expect(try await observer.instances(of: service).isEmpty)
    }
}
