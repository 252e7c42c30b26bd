// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// The examples of Documentation/ZooKeeper.md, as written there, against the standalone ZooKeeper of
/// `scripts/servers` (under a chroot of their own, so that the guide's absolute paths touch nothing else).
@Suite("Documentation/ZooKeeper.md examples against ZooKeeper", .requiresServers, .timeLimit(.minutes(1)))
struct ZooKeeperGuideTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A chroot of its own, created with a client without one.
    func chroot() async throws -> String {
        let chroot = ZooKeeperClientTests.uniquePath("guide")
        let admin = try ZooKeeperClientTests.client()
        try await admin.create(chroot, makeParents: true)
        await admin.close()
        return chroot
    }

    func servers() throws -> [String] {
        [try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")]
    }

    func cleanUp(_ chroot: String) async throws {
        let admin = try ZooKeeperClientTests.client()
        try await admin.delete(prefix: chroot + "/")
        try await admin.delete(chroot)
        await admin.close()
    }

    @Test("the introduction: put, require an endpoint, watch registered instances")
    func introduction() async throws {
        let chroot = try await self.chroot()
        let logger = self.logger
        let registrar = try ZooKeeperClient(configuration: .init(servers: try self.servers(), chroot: chroot))
        _ = try await registrar.register(
            ServiceInstance(service: "memcached", id: "a", endpoint: Endpoint(host: "10.0.0.11", port: 11211)),
            ttl: .seconds(10)
        )

        let zookeeper = try ZooKeeperClient(
            configuration: .init(servers: try self.servers(), chroot: chroot),
            logger: logger
        )

        try await zookeeper.put("/db/main/endpoint", "10.0.0.5:5432")
        let database = try await zookeeper.require("/db/main/endpoint").endpoint(defaultPort: 5432)
        #expect(database == Endpoint(host: "10.0.0.5", port: 5432))

        for try await snapshot in zookeeper.watch(prefix: "/services/memcached/") {
            let servers = try snapshot.map { try ServiceInstance(decoding: $0).endpoint }
            #expect(servers == [Endpoint(host: "10.0.0.11", port: 11211)])
            break
        }
        await zookeeper.close()
        await registrar.close()
        try await self.cleanUp(chroot)
    }

    @Test("registration: register, cancel, and run() in a service group")
    func registration() async throws {
        let chroot = try await self.chroot()
        let zookeeper = try ZooKeeperClient(configuration: .init(servers: try self.servers(), chroot: chroot))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await zookeeper.run() }
            let registration = try await zookeeper.register(
                ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080)),
                ttl: .seconds(10)
            )
            #expect(try await zookeeper.instances(of: "web").map(\.id) == ["web-1"])
            await registration.cancel()  // the node is deleted at once
            #expect(try await zookeeper.instances(of: "web").isEmpty)
            group.cancelAll()
        }
        try await self.cleanUp(chroot)
    }

    @Test("authentication: digest credentials and a creator-only ACL")
    func authentication() async throws {
        let chroot = try await self.chroot()
        let password = "guide-\(UUID().uuidString.prefix(8))"
        let logger = self.logger

        var configuration = ZooKeeperClient.Configuration(servers: try self.servers())
        configuration.chroot = chroot
        configuration.credentials = .init(username: "app", password: password)  // digest scheme
        configuration.acl = ZooKeeperACL.creatorAll  // only "app" may read or write
        let zookeeper = try ZooKeeperClient(configuration: configuration, logger: logger)

        try await zookeeper.put("/db/main/endpoint", "10.0.0.5:5432")
        let stranger = try ZooKeeperClient(configuration: .init(servers: try self.servers(), chroot: chroot))
        await #expect(throws: ZooKeeperError.self) { try await stranger.get("/db/main/endpoint") }
        try await zookeeper.delete(prefix: "/db")
        try await zookeeper.delete("/db")
        await stranger.close()
        await zookeeper.close()
        try await self.cleanUp(chroot)
    }

    @Test("the keys table: a prefix without '/' matches siblings; the empty prefix skips /zookeeper")
    func prefixes() async throws {
        let chroot = try await self.chroot()
        let zookeeper = try ZooKeeperClient(configuration: .init(servers: try self.servers(), chroot: chroot))
        try await zookeeper.put("/memcached/servers/a", "10.0.0.1:11211")
        try await zookeeper.put("/memcached/servers/pool/b", "10.0.0.2:11211")
        try await zookeeper.put("/memcached/serverless", "x")
        #expect(
            try await zookeeper.list(prefix: "/memcached/servers/").map(\.key) == [
                "/memcached/servers/a", "/memcached/servers/pool/b",
            ]
        )
        #expect(try await zookeeper.list(prefix: "/memcached/ser").count == 3)
        #expect(try await zookeeper.list(prefix: "").count == 3)
        #expect(try await zookeeper.get("/memcached/servers/pool") == nil)  // a directory
        await zookeeper.close()
        try await self.cleanUp(chroot)
    }
}
