// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import BeaconTesting
import Foundation
import LoopbackServer
import Testing

/// The `beacon-register` executable, run as Documentation/Register.md runs it, against the etcd of `scripts/servers`
/// that has authentication enabled (the password comes from `BEACON_PASSWORD`, never the command line).
@Suite("beacon-register against etcd", .requiresServers, .timeLimit(.minutes(2)))
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

    @Test("a backend that is not in this build is refused with a clear message")
    func unsupportedBackend() async throws {
        let run = try await ToolProcess.run(
            "beacon-register",
            ["-backend", "zookeeper", "-key", "/test/apache-8001", "-value", "127.0.0.1:8001"]
        )
        #expect(run.status != 0)
        #expect(run.error.contains("-backend zookeeper is not in this build yet"))
    }
}
