// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Foundation
import ServiceRunChecks
import Testing

@testable import BeaconEtcd

/// `EtcdClient.run()` as a service, against the plain etcd of `scripts/servers`: it keeps registrations alive, and
/// when it ends it revokes their leases and closes the client.
@Suite("EtcdClient as a service", .requiresServers, .timeLimit(.minutes(2)))
struct EtcdLifecycleTests {
    static func instance(_ id: String = "a", service: String? = nil) -> ServiceInstance {
        ServiceInstance(
            service: service ?? "beacon-test-\(UUID().uuidString.prefix(8))",
            id: id,
            endpoint: Endpoint(host: "10.0.0.7", port: 8080)
        )
    }

    /// Waits until `condition` holds, polling; fails the test when it still does not hold after `timeout`, a bound
    /// generous enough that only a real failure reaches it.
    static func wait(
        timeout: Duration = TestServers.scaled(.seconds(30)),
        sourceLocation: SourceLocation = #_sourceLocation,
        until condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition did not hold within \(timeout)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test(
        "run() returns on graceful shutdown and on cancellation, not before; then nothing is left and the client is closed",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func stops(stop: ServiceRunChecks.Stop) async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instance = Self.instance()
        let key = instance.key()
        let leases = LeaseIDs()
        try await ServiceRunChecks.expectRunsUntil(stop, etcd) {
            _ = try await etcd.register(instance, ttl: TestServers.scaled(.seconds(15)))
            #expect(try await etcd.instances(of: instance.service) == [instance])
            leases.add(try #require(try await observer.leaseID(ofKey: key)))
        }
        #expect(try await observer.get(key) == nil)
        let remaining = Set(try await observer.leaseIDs())
        #expect(leases.values.isDisjoint(with: remaining))

        let error = await #expect(throws: EtcdError.self) { try await etcd.get(key) }
        #expect(error?.code == .closed)
        let registerError = await #expect(throws: EtcdError.self) {
            try await etcd.register(Self.instance(), ttl: .seconds(5))
        }
        #expect(registerError?.code == .closed)
    }

    @Test("a registration is kept alive past several TTLs; cancel() removes it at once; ending run() removes the rest")
    func keepAliveCancelAndEnd() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let service = "beacon-test-\(UUID().uuidString.prefix(8))"
        let first = Self.instance("a", service: service)
        let second = Self.instance("b", service: service)
        // Short, so that several TTLs pass quickly; the checks below allow for a keep-alive that a busy machine
        // delayed past it (the keeper then registers again under a new lease).
        let ttl = Duration.seconds(3)

        var firstLease: Int64 = 0
        var secondLease: Int64 = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            let firstRegistration = try await etcd.register(first, ttl: ttl)
            _ = try await etcd.register(second, ttl: ttl)

            // Past several TTLs, both are still registered: their leases were renewed (or, had the machine stalled
            // past a TTL, registered again).
            let start = ContinuousClock.now
            try await Self.wait { ContinuousClock.now - start > ttl * 4 }
            try await Self.wait { try await observer.instances(of: service) == [first, second] }
            firstLease = try #require(try await observer.leaseID(ofKey: first.key()))
            secondLease = try #require(try await observer.leaseID(ofKey: second.key()))

            // cancel() revokes the lease before it returns: the key and the lease are gone at once.
            await firstRegistration.cancel()
            #expect(try await observer.instances(of: service) == [second])
            #expect(try await !observer.leaseIDs().contains(firstLease))
            #expect(try await observer.leaseIDs().contains(secondLease))

            group.cancelAll()
        }
        // Ending run() revoked the remaining registration's lease.
        #expect(try await observer.instances(of: service).isEmpty)
        let remaining = Set(try await observer.leaseIDs())
        #expect(!remaining.contains(firstLease) && !remaining.contains(secondLease))
    }

    @Test("a registration made before run() starts is kept alive once it runs")
    func registeredBeforeRun() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instance = Self.instance()
        let ttl = Duration.seconds(2)
        let registration = try await etcd.register(instance, ttl: ttl)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            let start = ContinuousClock.now
            try await Self.wait { ContinuousClock.now - start > ttl * 3 }
            try await Self.wait { try await observer.instances(of: instance.service) == [instance] }
            await registration.cancel()
            #expect(try await observer.instances(of: instance.service).isEmpty)
            group.cancelAll()
        }
    }

    @Test("close() ends run() without revoking: the keys expire with their TTL")
    func closeEndsRun() async throws {
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let instance = Self.instance()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            _ = try await etcd.register(instance, ttl: .seconds(30))
            etcd.close()
            try await group.waitForAll()
        }
        // Still there: as after a crash, only the TTL removes it. Clean up by hand.
        let lease = try #require(try await observer.leaseID(ofKey: instance.key()))
        try await observer.revoke(EtcdLease(id: lease, ttl: .seconds(30)))
        #expect(try await observer.instances(of: instance.service).isEmpty)
    }
}

/// Lease IDs collected by a test.
final class LeaseIDs: Sendable {
    private let state = Lock<Set<Int64>>([])

    func add(_ id: Int64) { self.state.withLock { _ = $0.insert(id) } }

    var values: Set<Int64> { self.state.withLock { $0 } }
}

extension EtcdClient {
    /// The lease a key is attached to, or `nil` when the key is absent or has none.
    func leaseID(ofKey key: String) async throws -> Int64? {
        let range = try await self.transport.call(
            "range",
            path: "/v3/kv/range",
            WireRangeRequest(key: WireBytes(key)),
            as: WireRangeResponse.self
        )
        return range.kvs?.first?.lease?.value
    }
}
