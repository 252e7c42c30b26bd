// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import Foundation
import Testing

/// ZooKeeperClient's reads, writes, listing, ACLs and chroot against the standalone ZooKeeper of `scripts/servers`.
@Suite("ZooKeeperClient", .requiresServers, .timeLimit(.minutes(2)))
struct ZooKeeperClientTests {
    static func client(
        servers: String? = nil,
        chroot: String? = nil,
        credentials: ZooKeeperClient.DigestCredentials? = nil,
        acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe,
        sessionTimeout: Duration = .seconds(4),
        requestTimeout: Duration = .seconds(10),
        sequentialRegistrations: Bool = false
    ) throws -> ZooKeeperClient {
        let servers = try servers ?? TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        return try ZooKeeperClient(
            configuration: .init(
                servers: servers.split(separator: ",").map(String.init),
                chroot: chroot,
                sessionTimeout: sessionTimeout,
                credentials: credentials,
                acl: acl,
                requestTimeout: requestTimeout,
                sequentialRegistrations: sequentialRegistrations
            )
        )
    }

    /// Creates `/beacon-tests` with the open ACL when it is missing. A test whose client writes with a restrictive
    /// ACL calls it before its first write: `makeParents` gives missing parents the client's own ACL, and a
    /// creator-only `/beacon-tests` would shut every other test out (`ZNOAUTH`), whichever test ran first.
    static func ensureOpenRoot() async throws {
        let client = try Self.client()
        let result: Result<Void, any Error>
        do {
            try await client.create("/beacon-tests")
            result = .success(())
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await client.close()
        try result.get()
    }

    /// A unique path below `/beacon-tests`, without a trailing `/`.
    static func uniquePath(_ name: String) -> String {
        "/beacon-tests/\(name)-\(UUID().uuidString.prefix(8))"
    }

    @Test("create, read, update and delete a node; a node without data is not an entry")
    func crud() async throws {
        let zookeeper = try Self.client()
        let root = Self.uniquePath("crud")
        let path = "\(root)/db/main"
        let created = try await zookeeper.create(path, data: Array("10.0.0.5:5432".utf8), makeParents: true)
        #expect(created == path)
        let entry = try #require(try await zookeeper.get(path))
        #expect(entry.string == "10.0.0.5:5432")
        let stat = try #require(try await zookeeper.exists(path))
        #expect(entry.version == UInt64(stat.mzxid))
        #expect(try await zookeeper.get("\(root)/db") == nil)  // A directory: no data.
        #expect(try await zookeeper.node(at: "\(root)/db")?.stat.numberOfChildren == 1)

        let updated = try await zookeeper.setData(path, Array("10.0.0.6:5432".utf8), expectedVersion: stat.version)
        #expect(updated.mzxid > stat.mzxid)
        await #expect {
            try await zookeeper.setData(path, Array("stale".utf8), expectedVersion: stat.version)
        } throws: {
            ($0 as? ZooKeeperError)?.code == .badVersion && ($0 as? ZooKeeperError)?.returnCodeName == "ZBADVERSION"
        }
        #expect(try await zookeeper.get(path)?.string == "10.0.0.6:5432")

        await #expect {
            try await zookeeper.create(path)
        } throws: { ($0 as? ZooKeeperError)?.code == .nodeExists && ($0 as? ZooKeeperError)?.path == path }
        await #expect {
            try await zookeeper.delete("\(root)/db")
        } throws: { ($0 as? ZooKeeperError)?.code == .notEmpty }

        #expect(try await zookeeper.delete(path))
        #expect(try await zookeeper.delete(path) == false)
        #expect(try await zookeeper.get(path) == nil)
        #expect(try await zookeeper.delete(prefix: root) == 2)
        await zookeeper.close()
    }

    @Test("put creates missing parents or overwrites, as etcd's put does")
    func put() async throws {
        let zookeeper = try Self.client()
        let root = Self.uniquePath("put")
        let first = try await zookeeper.put("\(root)/a/b/c", "1")
        let second = try await zookeeper.put("\(root)/a/b/c", "2")
        #expect(second > first)
        #expect(try await zookeeper.get("\(root)/a/b/c")?.string == "2")
        #expect(try await zookeeper.children(of: "\(root)/a") == ["b"])
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }

    @Test("list is recursive, skips nodes without data, and a prefix without '/' matches siblings")
    func list() async throws {
        let zookeeper = try Self.client()
        let root = Self.uniquePath("list")
        for (key, value) in [
            ("servers/a", "10.0.0.1:11211"), ("servers/pool/b", "10.0.0.2:11211"),
            ("servers/pool/deep/c", "10.0.0.3:11211"),
            ("serverless", "x"), ("other", "y"),
        ] {
            try await zookeeper.put("\(root)/\(key)", value)
        }
        let nested = try await zookeeper.list(prefix: "\(root)/servers/")
        #expect(nested.map(\.key) == ["a", "pool/b", "pool/deep/c"].map { "\(root)/servers/\($0)" })
        let siblings = try await zookeeper.list(prefix: "\(root)/server")
        #expect(
            siblings.map(\.key)
                == ["serverless", "servers/a", "servers/pool/b", "servers/pool/deep/c"].map { "\(root)/\($0)" }
        )
        #expect(try await zookeeper.list(prefix: "\(root)/missing/").isEmpty)
        #expect(try await zookeeper.list(prefix: "no-leading-slash").isEmpty)
        let everything = try await zookeeper.list(prefix: "")
        #expect(everything.contains { $0.key == "\(root)/other" })
        #expect(!everything.contains { $0.key.hasPrefix("/zookeeper") })
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }

    @Test("binary data round-trips byte for byte")
    func binary() async throws {
        let zookeeper = try Self.client()
        let path = Self.uniquePath("binary")
        let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } + [0, 0, 255]
        try await zookeeper.put(path, bytes: bytes)
        #expect(try await zookeeper.get(path)?.value == bytes)
        #expect(try await zookeeper.list(prefix: path).first?.value == bytes)
        try await zookeeper.delete(path)
        await zookeeper.close()
    }

    @Test("a chroot confines the client to its subtree")
    func chroot() async throws {
        let outside = try Self.client()
        let chroot = Self.uniquePath("chroot")
        try await outside.create(chroot, makeParents: true)
        try await outside.put("/beacon-tests/outside-\(chroot.suffix(8))", "outside")
        let inside = try Self.client(chroot: chroot)
        try await inside.put("/db/main", "10.0.0.5:5432")
        #expect(try await outside.get("\(chroot)/db/main")?.string == "10.0.0.5:5432")
        #expect(try await inside.list(prefix: "/").map(\.key) == ["/db/main"])
        #expect(try await inside.get("/beacon-tests/outside-\(chroot.suffix(8))") == nil)
        try await inside.delete(prefix: "/db")
        try await outside.delete("/beacon-tests/outside-\(chroot.suffix(8))")
        try await outside.delete(prefix: chroot)
        try await outside.delete(chroot)
        await inside.close()
        await outside.close()
    }

    @Test("digest authentication: a creator-only node is refused without the credentials, allowed with them")
    func digest() async throws {
        let credentials = ZooKeeperClient.DigestCredentials(username: "beacon", password: "zk-secret-pw")
        try await Self.ensureOpenRoot()
        let owner = try Self.client(credentials: credentials, acl: ZooKeeperACL.creatorAll)
        let path = Self.uniquePath("digest")
        try await owner.put(path, "secret value")
        #expect(try await owner.get(path)?.string == "secret value")

        let stranger = try Self.client()
        await #expect {
            try await stranger.get(path)
        } throws: { error in
            let error = error as? ZooKeeperError
            return error?.code == .notAuthorized && error?.returnCodeName == "ZNOAUTH"
                && !"\(error!)".contains("zk-secret-pw")
        }
        let wrong = try Self.client(credentials: .init(username: "beacon", password: "wrong"))
        await #expect(throws: ZooKeeperError.self) { try await wrong.get(path) }

        let friend = try Self.client(credentials: credentials)
        #expect(try await friend.get(path)?.string == "secret value")
        #expect(!"\(credentials)".contains("zk-secret-pw"))
        try await owner.delete(path)
        for client in [owner, stranger, wrong, friend] { await client.close() }
    }

    @Test("errors name the operation, the path, the ensemble and ZooKeeper's code")
    func errors() async throws {
        let zookeeper = try Self.client()
        await #expect {
            try await zookeeper.get("no-leading-slash")
        } throws: { error in
            let error = error as? ZooKeeperError
            return error?.code == .invalidArgument && "\(error!)".contains("no-leading-slash")
                && "\(error!)".contains("ZBADARGUMENTS")
        }
        await zookeeper.close()
        await #expect {
            try await zookeeper.get("/after-close")
        } throws: { ($0 as? ZooKeeperError)?.code == .closed }

        #expect(throws: ZooKeeperError.self) { try ZooKeeperClient(configuration: .init(servers: [])) }
        #expect(throws: ZooKeeperError.self) { try ZooKeeperClient(configuration: .init(servers: ["no-port"])) }
        #expect(throws: ZooKeeperError.self) {
            try ZooKeeperClient(configuration: .init(servers: ["127.0.0.1:2181"], chroot: "relative"))
        }
        let parsed = try ZooKeeperClient.Configuration(connectionString: "10.0.0.1:2181, 10.0.0.2:2181/apps/shop")
        #expect(parsed.servers == ["10.0.0.1:2181", "10.0.0.2:2181"])
        #expect(parsed.chroot == "/apps/shop")
    }

    @Test("an unreachable ensemble fails after the request timeout, naming the servers and the attempts")
    func unreachable() async throws {
        // Nothing listens on this port (the refusing port of the test servers' range).
        let zookeeper = try Self.client(servers: "127.0.0.1:1", requestTimeout: .milliseconds(600))
        await #expect {
            try await zookeeper.get("/anything")
        } throws: { error in
            let error = error as? ZooKeeperError
            return error?.code == .unavailable && error?.target == "127.0.0.1:1" && (error?.attempts ?? 0) >= 1
                && "\(error!)".contains("no server of the ensemble answered in time")
        }
        await zookeeper.close()
    }
}
