// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import BeaconEtcd

/// The etcd client against the plain and the auth-enabled etcd of `scripts/servers`.
@Suite("EtcdClient", .requiresServers, .timeLimit(.minutes(2)))
struct EtcdClientTests {
    static func client(_ variable: String = "BEACON_ETCD_ENDPOINT", logger: Logger? = nil) throws -> EtcdClient {
        let endpoints = try TestServers.value(variable).split(separator: ",").map(String.init)
        if let logger { return try EtcdClient(configuration: .init(endpoints: endpoints), logger: logger) }
        return try EtcdClient(configuration: .init(endpoints: endpoints))
    }

    @Test("put, get, list a prefix, delete")
    func keyValue() async throws {
        let etcd = try Self.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("kv")

        #expect(try await etcd.get("\(prefix)missing") == nil)
        let revision = try await etcd.put("\(prefix)db", "10.0.0.5:5432")
        let entry = try #require(try await etcd.get("\(prefix)db"))
        #expect(entry.string == "10.0.0.5:5432")
        #expect(entry.version == revision)

        try await etcd.put("\(prefix)mc/b", "10.0.0.12:11211")
        try await etcd.put("\(prefix)mc/a", "10.0.0.11:11211")
        try await etcd.put("\(prefix)mcx", "not under mc/")
        try await etcd.put("\(prefix)bin", bytes: [0, 0xFF, 0x10])
        #expect(try await etcd.list(prefix: "\(prefix)mc/").map(\.key) == ["\(prefix)mc/a", "\(prefix)mc/b"])
        #expect(try await etcd.get("\(prefix)bin")?.value == [0, 0xFF, 0x10])

        #expect(try await etcd.delete("\(prefix)db"))
        #expect(try await !etcd.delete("\(prefix)db"))
        #expect(try await etcd.delete(prefix: prefix) == 4)
        #expect(try await etcd.list(prefix: prefix).isEmpty)
    }

    @Test("compare-and-swap succeeds on the expected version and reports a conflict otherwise")
    func compareAndSwap() async throws {
        let etcd = try Self.client()
        defer { etcd.close() }
        let key = TestServers.uniquePrefix("cas") + "lock"

        #expect(try await etcd.compareAndSwap(key, expectedVersion: 0, newValue: Array("v1".utf8)))
        #expect(try await !etcd.compareAndSwap(key, expectedVersion: 0, newValue: Array("again".utf8)))
        let current = try #require(try await etcd.get(key))
        #expect(try await etcd.compareAndSwap(key, expectedVersion: current.version, newValue: Array("v2".utf8)))
        #expect(try await !etcd.compareAndSwap(key, expectedVersion: current.version, newValue: Array("stale".utf8)))
        #expect(try await etcd.get(key)?.string == "v2")
        try await etcd.delete(key)
    }

    @Test("a key attached to a lease disappears when the lease expires")
    func leaseExpiry() async throws {
        let etcd = try Self.client()
        defer { etcd.close() }
        let key = TestServers.uniquePrefix("lease") + "ephemeral"
        let lease = try await etcd.grantLease(ttl: TestServers.scaled(.seconds(3)))
        // However slow the machine, one of these holds: the key is still there, attached to the lease, or the lease
        // has already run out and taken the key with it, or it ran out before the put, which then fails.
        do {
            try await etcd.put(key, "127.0.0.1:7000", lease: lease)
        } catch let error as EtcdError where error.code == .leaseNotFound {
            #expect(try await etcd.timeToLive(lease) == nil)
            #expect(try await etcd.get(key) == nil)
            return
        }
        if let attachedTo = try await etcd.leaseID(ofKey: key) {
            #expect(attachedTo == lease.id)
        } else {
            #expect(try await etcd.timeToLive(lease) == nil)
        }

        try await EtcdLifecycleTests.wait { try await etcd.get(key) == nil }
        #expect(try await etcd.keepAlive(lease) == nil)
        #expect(try await etcd.timeToLive(lease) == nil)
        await #expect(throws: EtcdError.self) { try await etcd.put(key, "x", lease: lease) }
    }

    @Test("a wrong password gives a clear error without the password")
    func wrongPassword() async throws {
        let endpoint = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let etcd = try EtcdClient(
            configuration: .init(
                endpoints: [endpoint],
                credentials: .init(username: user, password: "not-the-password")
            )
        )
        defer { etcd.close() }
        let error = await #expect(throws: EtcdError.self) { try await etcd.get("/anything") }
        #expect(error?.code == .authenticationFailed)
        let text = "\(error.map { String(describing: $0) } ?? "")"
        #expect(text.contains("user \"\(user)\" was rejected"), "\(text)")
        #expect(!text.contains("not-the-password"))
        #expect(!"\(etcd.configuration.credentials!)".contains("not-the-password"))
    }

    @Test("an expired token is refreshed transparently")
    func tokenRefresh() async throws {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in logs })
        logger.logLevel = .debug
        let etcd = try EtcdClient(
            configuration: .init(
                endpoints: [try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")],
                credentials: .init(
                    username: try TestServers.value("BEACON_ETCD_AUTH_USER"),
                    password: try TestServers.value("BEACON_ETCD_AUTH_PASSWORD")
                )
            ),
            logger: logger
        )
        defer { etcd.close() }
        let key = TestServers.uniquePrefix("auth") + "k"
        try await etcd.put(key, "v")
        // The server runs with --auth-token-ttl 3: an idle token expires after 3 seconds.
        try await Task.sleep(for: .seconds(4.5))
        #expect(try await etcd.get(key)?.string == "v")
        #expect(logs.entries.contains { "\($0.message)".contains("authenticating again") })
        try await etcd.delete(key)
    }

    @Test("an unreachable endpoint gives an error naming it and the attempts")
    func unreachable() async throws {
        let etcd = try EtcdClient(configuration: .init(endpoints: ["http://127.0.0.1:1", "http://127.0.0.1:2"]))
        defer { etcd.close() }
        let error = await #expect(throws: EtcdError.self) { try await etcd.get("/k") }
        #expect(error?.code == .unavailable)
        #expect(error?.attempts == 2)
        #expect("\(error.map { String(describing: $0) } ?? "")".contains("http://127.0.0.1:1, http://127.0.0.1:2"))
        #expect(throws: EtcdError.self) { try EtcdClient(configuration: .init(endpoints: ["127.0.0.1:2379"])) }
    }

    @Test("code on the client's task executor reads, writes and watches through it")
    func onTaskExecutor() async throws {
        let etcd = try Self.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("executor")
        let snapshots = try await withTaskExecutorPreference(etcd.taskExecutor) {
            var watch = etcd.watch(prefix: prefix).makeAsyncIterator()
            var seen = [try #require(try await watch.next()).count]
            for index in 0..<3 {
                try await etcd.put("\(prefix)k\(index)", "v\(index)")
                #expect(try await etcd.get("\(prefix)k\(index)")?.string == "v\(index)")
                while let snapshot = try await watch.next() {
                    if snapshot.count == index + 1 {
                        seen.append(snapshot.count)
                        break
                    }
                }
            }
            return seen
        }
        #expect(snapshots == [0, 1, 2, 3])
        #expect(try await etcd.delete(prefix: prefix) == 3)
    }
}
