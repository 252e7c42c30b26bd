// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconDiscovery
import BeaconMemcached
import BeaconTesting
import BeaconZooKeeper
import Foundation
import Testing

/// `DiscoveryService(url: "zookeeper://...")` against the ZooKeeper of `scripts/servers`: the service makes the client,
/// runs it and closes it.
@Suite("DiscoveryService over zookeeper://", .requiresServers, .timeLimit(.minutes(2)))
struct DiscoveryServiceZooKeeperTests {
    static func endpoint() throws -> String {
        try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
    }

    @Test("get, endpoint, endpoints and a memcached pool read nodes below the URL's chroot, and follow them")
    func values() async throws {
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("discovery")
        try await zookeeper.put("\(root)/db/main/endpoint", "10.0.0.5:5432")
        try await zookeeper.put("\(root)/memcached/servers/a", "10.0.0.1:11211")
        let instance = ServiceInstance(service: "memcached", id: "b", endpoint: Endpoint(host: "10.0.0.2", port: 11211))
        try await zookeeper.put("\(root)/memcached/servers/b", bytes: instance.encodedValue())
        // The URL's chroot: the service's keys are relative to it.
        let discovery = try DiscoveryService(url: "zookeeper://\(try Self.endpoint())\(root)")

        let pool = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await discovery.run() }
            defer { group.cancelAll() }

            #expect(try await discovery.get("/db/main/endpoint") == "10.0.0.5:5432")
            #expect(try await discovery.get("/db/absent") == nil)
            #expect(try await discovery.endpoint("/db/main/endpoint") == Endpoint(host: "10.0.0.5", port: 5432))
            #expect(
                try await discovery.endpoints("/memcached/servers/").map(\.description)
                    == ["10.0.0.1:11211", "10.0.0.2:11211"]
            )

            // The default memcached location, /memcached/servers/, followed: a node added, then one removed.
            let pool = try await discovery.memcached()
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11211"])
            let beforeJoin = pool.generation
            try await zookeeper.put("\(root)/memcached/servers/c", "10.0.0.3:11211")
            #expect(try await eventually { pool.generation > beforeJoin })
            #expect(
                pool.currentPool?.servers.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]
            )
            let beforeLeave = pool.generation
            try await zookeeper.delete("\(root)/memcached/servers/a")
            #expect(try await eventually { pool.generation > beforeLeave })
            #expect(pool.currentPool?.servers.map(\.description) == ["10.0.0.2:11211", "10.0.0.3:11211"])
            #expect(try await discovery.memcached() === pool)

            // A raw value read before is followed too.
            try await zookeeper.put("\(root)/db/main/endpoint", "10.0.0.6:5432")
            #expect(try await eventually { try await discovery.get("/db/main/endpoint") == "10.0.0.6:5432" })
            return pool
        }
        // run() ended: the pool is closed, and so is the ZooKeeper client the service made.
        #expect(pool.currentPool == nil)
        await #expect {
            try await discovery.get("/db/never-read")
        } throws: { error in
            "\(error)".contains("closed")
        }
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }

    @Test("digest credentials come from the configuration, never from the URL, and never show in errors")
    func credentials() async throws {
        let password = "zk-discovery-pw"
        let credentials = ZooKeeperClient.DigestCredentials(username: "beacon", password: password)
        try await ZooKeeperClientTests.ensureOpenRoot()
        let owner = try ZooKeeperClientTests.client(credentials: credentials, acl: ZooKeeperACL.creatorAll)
        let root = ZooKeeperClientTests.uniquePath("discovery-digest")
        try await owner.put("\(root)/db/main/endpoint", "10.0.0.5:5432")
        let url = "zookeeper://\(try Self.endpoint())"

        var configuration = DiscoveryService.Configuration()
        configuration.zookeeper.credentials = credentials
        let allowed = try DiscoveryService(url: url, configuration: configuration)
        #expect(try await allowed.get("\(root)/db/main/endpoint") == "10.0.0.5:5432")

        let stranger = try DiscoveryService(url: url)
        await #expect {
            try await stranger.get("\(root)/db/main/endpoint")
        } throws: { error in
            "\(error)".contains("notAuthorized") && !"\(error)".contains(password)
        }
        await allowed.close()
        await stranger.close()
        try await owner.delete(prefix: root)
        await owner.close()
    }

    @Test("the story's YAML follows a memcached server joining and a database moving, through ZooKeeper")
    func story() async throws {
        let zookeeper = try ZooKeeperClientTests.client()
        let prefix = TestServers.uniquePrefix("discovery-service-zookeeper")
        let writer = DiscoveryServiceTests.Writer(
            put: { key, value in _ = try await zookeeper.put(key, bytes: value) },
            // The prefix's own node too: ZooKeeper keeps directories, etcd does not.
            deleteAll: { prefix in _ = try await zookeeper.delete(prefix: String(prefix.dropLast())) }
        )
        do {
            try await DiscoveryServiceTests.story(
                url: "zookeeper://\(try Self.endpoint())",
                prefix: prefix,
                writer: writer
            )
        } catch {
            await zookeeper.close()
            throw error
        }
        await zookeeper.close()
    }
}
