// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import CBeaconZooKeeper
import Foundation
import ServiceLifecycle
import Testing

/// ZooKeeperClient's watches, registrations and session expiry against the standalone ZooKeeper of `scripts/servers`.
@Suite("ZooKeeperClient watch and registration", .requiresServers, .timeLimit(.minutes(3)))
struct ZooKeeperWatchTests {
    @Test("1,000 sequential creates under a watched path are observed in order, none lost")
    func thousandCreates() async throws {
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("watch")
        let prefix = "\(root)/"
        let count = 1_000
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 10_000))" }

        var iterator = zookeeper.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.isEmpty == true)
        let writer = Task {
            for index in 0..<count { try await zookeeper.put(key(index), String(index)) }
        }
        var seen = 0
        var snapshots = 0
        while seen < count {
            let snapshot = try #require(try await iterator.next())
            // Whole snapshots of sequential creates: each holds exactly the first n nodes, n never decreasing.
            #expect(snapshot.count > seen)
            #expect(snapshot.map(\.key) == (0..<snapshot.count).map(key))
            #expect(snapshot.map(\.string) == (0..<snapshot.count).map(String.init))
            seen = snapshot.count
            snapshots += 1
        }
        try await writer.value
        #expect(snapshots > 1)
        #expect(try await zookeeper.delete(prefix: root) == count + 1)
        await zookeeper.close()
    }

    @Test("changes, deletes, nested nodes and a directory created later are followed; a re-read emits nothing")
    func followsChanges() async throws {
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("follow")
        let prefix = "\(root)/servers/"
        var iterator = zookeeper.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.isEmpty == true)  // The directory does not exist yet.

        try await zookeeper.put("\(prefix)a", "10.0.0.1:11211")
        #expect(try await iterator.next()?.map(\.string) == ["10.0.0.1:11211"])
        try await zookeeper.put("\(prefix)pool/b", "10.0.0.2:11211")
        #expect(try await iterator.next()?.map(\.key) == ["\(prefix)a", "\(prefix)pool/b"])
        try await zookeeper.put("\(prefix)a", "10.0.0.9:11211")
        let changed = try #require(try await iterator.next())
        #expect(changed.map(\.string) == ["10.0.0.9:11211", "10.0.0.2:11211"])
        // Writing the same bytes changes mzxid, so it is a new version; an empty directory adds no entry.
        try await zookeeper.create("\(prefix)empty")
        try await zookeeper.delete("\(prefix)pool/b")
        let afterDelete = try #require(try await iterator.next())
        #expect(afterDelete.map(\.key) == ["\(prefix)a"])
        // Deleted and created again under the same name: both watches are re-armed.
        try await zookeeper.delete("\(prefix)a")
        try await zookeeper.put("\(prefix)a", "10.0.0.3:11211")
        var latest = try #require(try await iterator.next())
        while latest.map(\.string) != ["10.0.0.3:11211"] { latest = try #require(try await iterator.next()) }
        try await zookeeper.put("\(prefix)a", "10.0.0.4:11211")
        #expect(try await iterator.next()?.map(\.string) == ["10.0.0.4:11211"])
        try await zookeeper.delete(prefix: root)
        #expect(try await iterator.next()?.isEmpty == true)
        await zookeeper.close()
    }

    @Test("a registration is present while alive, gone after cancel, gone after close; ids come from the JSON")
    func registrationLifecycle() async throws {
        let service = "beacon-zk-\(UUID().uuidString.prefix(8))"
        let observer = try ZooKeeperClientTests.client()
        let registrar = try ZooKeeperClientTests.client(sequentialRegistrations: true)
        let first = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        let second = ServiceInstance(service: service, id: "web-2", endpoint: Endpoint(host: "10.0.0.8", port: 8080))
        let one = try await registrar.register(first, ttl: .seconds(10))
        _ = try await registrar.register(second, ttl: .seconds(10))
        #expect(try await observer.instances(of: service) == [first, second])
        let names = try await observer.children(of: "/services/\(service)")
        #expect(names.count == 2 && names.allSatisfy { $0.hasPrefix("web-") && $0.count == "web-1-".count + 10 })

        await one.cancel()
        #expect(try await observer.instances(of: service) == [second])
        await registrar.close()
        #expect(try await observer.instances(of: service).isEmpty)
        try await observer.delete(prefix: "/services/\(service)")
        try await observer.delete("/services/\(service)")
        await observer.close()
    }

    @Test("ending run() deletes the registrations and ephemeral keys, and closes the client")
    func runEnds() async throws {
        let service = "beacon-zk-\(UUID().uuidString.prefix(8))"
        let observer = try ZooKeeperClientTests.client()
        let registrar = try ZooKeeperClientTests.client()
        let instance = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        let key = ZooKeeperClientTests.uniquePath("ephemeral")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await registrar.run() }
            _ = try await registrar.register(instance, ttl: .seconds(10))
            _ = try await registrar.putEphemeral(key, "127.0.0.1:8001", ttl: .seconds(10))
            #expect(try await observer.instances(of: service) == [instance])
            #expect(try await observer.get(key)?.string == "127.0.0.1:8001")
            #expect(try await observer.exists(key)?.isEphemeral == true)
            group.cancelAll()
        }
        #expect(try await observer.instances(of: service).isEmpty)
        #expect(try await observer.get(key) == nil)
        await #expect {
            _ = try await registrar.register(instance, ttl: .seconds(10))
        } throws: { ($0 as? ZooKeeperError)?.code == .closed }
        try await observer.delete("/services/\(service)")
        await observer.close()
    }

    @Test("after a forced session expiry, the registration is re-created and the watch resumes with a fresh snapshot")
    func sessionExpiry() async throws {
        let service = "beacon-zk-\(UUID().uuidString.prefix(8))"
        let observer = try ZooKeeperClientTests.client()
        let client = try ZooKeeperClientTests.client(sessionTimeout: .seconds(2))
        let instance = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        let root = ZooKeeperClientTests.uniquePath("expiry")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            _ = try await client.register(instance, ttl: .seconds(10))
            try await client.put("\(root)/a", "1")
            var iterator = client.watch(prefix: "\(root)/").makeAsyncIterator()
            #expect(try await iterator.next()?.map(\.string) == ["1"])

            try await Self.forceExpiry(of: client)
            // A change made while the session is being replaced is in the fresh snapshot.
            try await observer.put("\(root)/b", "2")
            var snapshot = try #require(try await iterator.next())
            while snapshot.count < 2 { snapshot = try #require(try await iterator.next()) }
            #expect(snapshot.map(\.string) == ["1", "2"])
            #expect(client.sessionExpirations == 1)

            let deadline = ContinuousClock.now + TestServers.scaled(.seconds(20))
            while try await observer.instances(of: service).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await observer.instances(of: service) == [instance])
            let owner = try #require(try await observer.exists("/services/\(service)/web-1")?.ephemeralOwner)
            #expect(owner == client.sessionCredentials?.id)
            group.cancelAll()
        }
        try await observer.delete(prefix: root)
        try await observer.delete(root)
        try await observer.delete("/services/\(service)")
        await observer.close()
    }

    /// Expires the client's session, trying again while the client has not seen it expire: if the client reconnects
    /// between ``expireSession(of:)``'s connect and its close (a slow machine, a sanitizer build), it takes the
    /// session back and the close ends nothing.
    static func forceExpiry(of client: ZooKeeperClient) async throws {
        let deadline = ContinuousClock.now + TestServers.scaled(.seconds(20))
        let before = client.sessionExpirations
        repeat {
            try await Self.expireSession(of: client)
            let settle = ContinuousClock.now + TestServers.scaled(.seconds(2))
            while client.sessionExpirations == before, ContinuousClock.now < settle {
                try await Task.sleep(for: .milliseconds(20))
            }
        } while client.sessionExpirations == before && ContinuousClock.now < deadline
    }

    /// Makes a client's session expire: a second handle takes the session over with its id and password, then closes
    /// it, which ends the session on the server; the client learns it when it reconnects.
    static func expireSession(of client: ZooKeeperClient) async throws {
        let endpoint = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        let (id, password) = try #require(client.sessionCredentials)
        var clientID = clientid_t()
        clientID.client_id = id
        withUnsafeMutableBytes(of: &clientID.passwd) { $0.copyBytes(from: password.prefix(16)) }
        let watcher: watcher_fn = { _, _, _, _, _ in }
        let handle = try #require(zookeeper_init(endpoint, watcher, 2_000, &clientID, nil, 0))
        let deadline = ContinuousClock.now + .seconds(10)
        while zoo_state(handle) != ZOO_CONNECTED_STATE, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(zoo_state(handle) == ZOO_CONNECTED_STATE)
        // Closing waits for the server's answer: on a thread of its own, not the cooperative pool.
        let closing = ClosingHandle(pointer: handle)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                zookeeper_close(closing.pointer)
                continuation.resume()
            }
        }
    }
}

/// A handle to close on another thread. `@unchecked Sendable`: nothing else uses the handle once it is handed over.
private struct ClosingHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
