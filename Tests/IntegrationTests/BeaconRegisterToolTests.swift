// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import BeaconTesting
import BeaconZooKeeper
import Foundation
import LoopbackServer
import Testing

/// The `beacon-register` executable, run as Documentation/Register.md runs it, against the etcd of `scripts/servers`
/// that has authentication enabled, and against its ZooKeeper (the password comes from `BEACON_PASSWORD`, never the
/// command line).
@Suite("beacon-register against etcd and ZooKeeper", .requiresServers, .timeLimit(.minutes(2)))
struct BeaconRegisterToolTests {
    @Test("keeps a plain key on a lease while the server answers, withdraws it on SIGTERM, and logs no password")
    func plainKeyUntilSIGTERM() async throws {
        let endpoint = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = try TestServers.value("BEACON_ETCD_AUTH_PASSWORD")
        let observer = try EtcdClient(
            configuration: .init(endpoints: [endpoint], credentials: .init(username: user, password: password))
        )
        defer { observer.close() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let key = "/beacon-register-tests/\(UUID().uuidString)/test/apache-8001"
        let value = "127.0.0.1:\(server.port)"

        let tool = try ToolProcess(
            "beacon-register",
            [
                "-backend", "etcdv3", "-node", endpoint, "-username", user,
                "-key", key, "-value", value, "-check-http", server.url("/"),
                "-interval", "0.1", "-ttl", "60", "-failures", "2", "-log-level", "debug",
            ],
            environment: ["BEACON_PASSWORD": password]
        )
        #expect(try await eventually { try await observer.get(key)?.string == value })
        tool.signal(SIGTERM)
        let status = await tool.waitForExit()
        #expect(status == 0)
        // Revoked on the way out, not left to expire (the TTL is a minute).
        #expect(try await observer.get(key) == nil)
        let output = tool.output + tool.errorOutput
        #expect(output.contains("Instance is healthy; registered"))
        #expect(output.contains("Stopping; withdrew the registration"))
        #expect(!output.contains(password))
    }

    @Test("an unknown backend, and one that can only be read, are refused with a clear message")
    func unsupportedBackend() async throws {
        let unknown = try await ToolProcess.run(
            "beacon-register",
            ["-backend", "eureka", "-key", "/test/apache-8001", "-value", "127.0.0.1:8001"]
        )
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("-backend eureka is unknown: use etcdv3, zookeeper, consul, file or env"))
        let readOnly = try await ToolProcess.run(
            "beacon-register",
            ["-backend", "env", "-key", "/test/apache-8001", "-value", "127.0.0.1:8001"]
        )
        #expect(readOnly.status != 0)
        #expect(readOnly.error.contains("-backend env can be read, not registered in: use etcdv3, zookeeper or consul"))
    }

    @Test("-backend zookeeper keeps a plain key as an ephemeral node while the server answers, deletes it on SIGTERM")
    func zookeeperEphemeralNode() async throws {
        let endpoint = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        let observer = try ZooKeeperClientTests.client()
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let root = ZooKeeperClientTests.uniquePath("register-tool")
        let key = "\(root)/test/apache-8001"
        let value = "127.0.0.1:\(server.port)"
        // Digest credentials, the password from the environment: the node is created with them (its ACL stays open).
        let password = "zk-register-pw"

        let tool = try ToolProcess(
            "beacon-register",
            [
                "-backend", "zookeeper", "-node", endpoint, "-username", "beacon",
                "-key", key, "-value", value, "-check-http", server.url("/"),
                "-interval", "0.1", "-ttl", "30", "-failures", "2", "-log-level", "debug",
            ],
            environment: ["BEACON_PASSWORD": password]
        )
        #expect(try await eventually { try await observer.get(key)?.string == value })
        #expect(try await observer.exists(key)?.isEphemeral == true)
        tool.signal(SIGTERM)
        let status = await tool.waitForExit()
        #expect(status == 0)
        // Deleted on the way out, not left until the session times out (half a minute).
        #expect(try await observer.exists(key) == nil)
        let output = tool.output + tool.errorOutput
        #expect(output.contains("Instance is healthy; registered"))
        #expect(output.contains("Stopping; withdrew the registration"))
        #expect(!output.contains(password))
        try await observer.delete(prefix: root)
        await observer.close()
    }
}
