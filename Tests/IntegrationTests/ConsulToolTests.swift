// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconTesting
import Foundation
import LoopbackServer
import Testing

/// The command-line tools with `-backend consul` (and beacon-demo with `--consul`), run as an operator runs them,
/// against the fake Consul agents of `scripts/servers`; the ACL token comes from `BEACON_CONSUL_TOKEN`, never the
/// command line, and never appears in their output.
@Suite("The tools over Consul", .requiresServers, .timeLimit(.minutes(2)))
struct ConsulToolTests {
    static func uniqueService(_ what: String) -> String { "beacon-\(what)-\(UUID().uuidString.prefix(8))" }

    /// A confdir with one resource reading `/test` (under the tool's `-prefix`) and the instances of `service`.
    static func confdir(service: String) throws -> String {
        let confdir = NSTemporaryDirectory() + "beacon-confd-consul-" + UUID().uuidString
        for (path, text) in [
            (
                "templates/nginx.conf.tmpl",
                """
                upstream backend {
                    {{#values(test)}}
                    server {{.}};
                    {{/values(test)}}
                }
                upstream web {
                    {{#instances(services.\(service))}}
                    server {{address}}; # {{id}} in {{metadata.zone}}
                    {{/instances(services.\(service))}}
                }

                """
            ),
            (
                "conf.d/nginx.toml",
                """
                [template]
                src = "nginx.conf.tmpl"
                dest = "\(confdir)/out/nginx.conf"
                keys = ["/test", "service:\(service)"]

                """
            ),
        ] {
            let full = confdir + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: confdir + "/out", withIntermediateDirectories: true)
        return confdir
    }

    /// Runs `body` while a client keeps its registrations' checks passing, then deregisters them.
    static func registering<R: Sendable>(
        _ registrar: ConsulClient,
        _ body: () async throws -> R
    ) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await registrar.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    @Test("beacon-confd -backend consul -onetime renders KV keys and a service's passing instances, with the token")
    func confdOnetime() async throws {
        let node = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let token = try TestServers.value("BEACON_CONSUL_ACL_TOKEN")
        let consul = try ConsulClientTests.client(agents: [node], token: token)
        defer { consul.close() }
        let registrar = try ConsulClientTests.client(agents: [node], token: token)
        let prefix = String(TestServers.uniquePrefix("confd-consul").dropLast())
        try await consul.put(prefix + "/test/apache-8002", "127.0.0.1:8002")
        try await consul.put(prefix + "/test/apache-8001", "127.0.0.1:8001")
        let service = Self.uniqueService("web")
        let confdir = try Self.confdir(service: service)
        defer { try? FileManager.default.removeItem(atPath: confdir) }
        let arguments = ["-onetime", "-confdir", confdir, "-backend", "consul", "-node", node, "-prefix", prefix]

        try await Self.registering(registrar) {
            _ = try await registrar.register(
                ServiceInstance(
                    service: service,
                    id: "\(service)-1",
                    endpoint: Endpoint(host: "10.0.1.1", port: 8080),
                    metadata: ["zone": "eu-1"]
                ),
                ttl: TestServers.scaled(.seconds(10))
            )
            let run = try await ToolProcess.run(
                "beacon-confd",
                arguments + ["-log-level", "debug"],
                environment: ["BEACON_CONSUL_TOKEN": token]
            )
            #expect(run.status == 0, "\(run.error)")
            #expect(
                try String(contentsOfFile: confdir + "/out/nginx.conf", encoding: .utf8) == """
                    upstream backend {
                        server 127.0.0.1:8001;
                        server 127.0.0.1:8002;
                    }
                    upstream web {
                        server 10.0.1.1:8080; # \(service)-1 in eu-1
                    }

                    """
            )
            #expect(!(run.output + run.error).contains(token))

            // Without the token, the agent's default deny filters the lists and the catalog, as Consul does: the
            // same resource renders without a server.
            let anonymous = try await ToolProcess.run("beacon-confd", arguments)
            #expect(anonymous.status == 0, "\(anonymous.error)")
            let filtered = try String(contentsOfFile: confdir + "/out/nginx.conf", encoding: .utf8)
            #expect(filtered.contains("upstream web {") && !filtered.contains("server "), "\(filtered)")
        }
        try await consul.delete(prefix: prefix)
    }

    @Test("beacon-confd -backend consul -watch re-renders when an instance registers, and exits 0 on SIGTERM")
    func confdWatch() async throws {
        let node = try TestServers.value("BEACON_CONSUL_ENDPOINT")
        let consul = try ConsulClientTests.client()
        defer { consul.close() }
        let registrar = try ConsulClientTests.client()
        let prefix = String(TestServers.uniquePrefix("confd-consul").dropLast())
        try await consul.put(prefix + "/test/apache-8001", "127.0.0.1:8001")
        let service = Self.uniqueService("web")
        let confdir = try Self.confdir(service: service)
        defer { try? FileManager.default.removeItem(atPath: confdir) }
        func rendered() -> String { (try? String(contentsOfFile: confdir + "/out/nginx.conf", encoding: .utf8)) ?? "" }

        try await Self.registering(registrar) {
            let tool = try ToolProcess(
                "beacon-confd",
                ["-watch", "-confdir", confdir, "-backend", "consul", "-node", node, "-prefix", prefix]
            )
            #expect(try await eventually { rendered().contains("server 127.0.0.1:8001;") })
            #expect(!rendered().contains("10.0.1.1"))
            _ = try await registrar.register(
                ServiceInstance(
                    service: service,
                    id: "\(service)-1",
                    endpoint: Endpoint(host: "10.0.1.1", port: 8080),
                    metadata: ["zone": "eu-1"]
                ),
                ttl: TestServers.scaled(.seconds(10))
            )
            #expect(try await eventually { rendered().contains("server 10.0.1.1:8080; # \(service)-1 in eu-1") })
            tool.signal(SIGTERM)
            #expect(await tool.waitForExit() == 0)
            #expect(tool.errorOutput.contains("Destination updated"))
        }
        try await consul.delete(prefix: prefix)
    }

    @Test("beacon-register -backend consul: passing in the catalog while healthy, deregistered on SIGTERM")
    func registerService() async throws {
        let node = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let token = try TestServers.value("BEACON_CONSUL_ACL_TOKEN")
        let observer = try ConsulClientTests.client(agents: [node], token: token)
        defer { observer.close() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let service = Self.uniqueService("register")
        let expected = ServiceInstance(
            service: service,
            id: "\(service)-1",
            endpoint: Endpoint(host: "127.0.0.1", port: server.port),
            metadata: ["zone": "eu-1"]
        )

        let tool = try ToolProcess(
            "beacon-register",
            [
                "-backend", "consul", "-node", node, "-service", service, "-id", expected.id,
                "-address", "127.0.0.1:\(server.port)", "-metadata", "zone=eu-1", "-check-http", server.url("/"),
                "-interval", "0.1", "-ttl", "2", "-failures", "2", "-log-level", "debug",
            ],
            environment: ["BEACON_CONSUL_TOKEN": token]
        )
        // Listed by /v1/health/service/<name>?passing, and still after several TTLs: the client passes its check.
        #expect(try await eventually { try await observer.instances(of: service) == [expected] })
        try await Task.sleep(for: .seconds(3))
        #expect(try await observer.instances(of: service) == [expected])
        tool.signal(SIGTERM)
        #expect(await tool.waitForExit() == 0)
        // Deregistered on the way out, not left to go critical.
        #expect(try await observer.instances(of: service).isEmpty)
        let output = tool.output + tool.errorOutput
        #expect(output.contains("Instance is healthy; registered"))
        #expect(output.contains("Stopping; withdrew the registration"))
        #expect(!output.contains(token))
    }

    @Test("beacon-register -backend consul refuses -key: Consul has no ephemeral key, register a service instead")
    func registerKeyRefused() async throws {
        let run = try await ToolProcess.run(
            "beacon-register",
            ["-backend", "consul", "-key", "/test/apache-8001", "-value", "127.0.0.1:8001"]
        )
        #expect(run.status != 0)
        #expect(run.error.contains("Consul has no such key"), "\(run.error)")
        #expect(run.error.contains("register a service instance instead, with -service, -id and -address"))
    }

    @Test("beacon-demo --consul prints the services read from Consul's KV store; with --watch, after each change")
    func demo() async throws {
        let node = try TestServers.value("BEACON_CONSUL_ENDPOINT")
        let consul = try ConsulClientTests.client()
        defer { consul.close() }
        // The demo reads fixed keys: values of this run's own, removed afterwards only if still this run's.
        let port = Int.random(in: 20_000...29_999)
        let database = "10.0.0.5:\(port)"
        let servers = ["a": "10.0.0.1:\(port)", "b": "10.0.0.2:\(port)"]
        try await consul.put("/db/main/endpoint", database)
        try await consul.put("/memcached/servers/a", servers["a"]!)

        let once = try await ToolProcess.run("beacon-demo", ["--consul", node])
        #expect(once.status == 0, "\(once.error)")
        #expect(once.output.contains("Source: Consul at \(node)"))
        #expect(once.output.contains("Database:  \(database)"))
        #expect(once.output.contains("Memcached: \(servers["a"]!)"))

        let watching = try ToolProcess("beacon-demo", ["--consul", node, "--watch"])
        #expect(try await eventually { watching.output.contains("Memcached: \(servers["a"]!)") })
        try await consul.put("/memcached/servers/b", servers["b"]!)
        #expect(try await eventually { watching.output.contains("Memcached: \(servers["b"]!)") })
        watching.signal(SIGTERM)
        _ = await watching.waitForExit()

        for (key, value) in [
            ("/db/main/endpoint", database), ("/memcached/servers/a", servers["a"]!),
            ("/memcached/servers/b", servers["b"]!),
        ] {
            if try await consul.get(key)?.string == value {
                try await consul.delete(key)
            }
        }
    }

    @Test("beacon-demo --consul reads an agent with ACLs with the token of BEACON_CONSUL_TOKEN, and never prints it")
    func demoToken() async throws {
        let node = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let token = try TestServers.value("BEACON_CONSUL_ACL_TOKEN")
        let withToken = try await ToolProcess.run(
            "beacon-demo",
            ["--consul", node],
            environment: ["BEACON_CONSUL_TOKEN": token]
        )
        #expect(withToken.status == 0, "\(withToken.error)")
        #expect(withToken.output.contains("Source: Consul at \(node)"))
        let denied = try await ToolProcess.run("beacon-demo", ["--consul", node])
        #expect(denied.status != 0)
        #expect(denied.error.contains("permissionDenied"), "\(denied.error)")
        #expect(!(withToken.output + withToken.error + denied.error).contains(token))
    }
}
