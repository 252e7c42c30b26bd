// SPDX-License-Identifier: Apache-2.0

import BeaconTesting
import Foundation
import Logging
import LoopbackServer
import Testing

extension SecretsTests {
    /// A confd directory with one resource that renders the values under `/secrets-tool/` to `out/values.txt`.
    static func confdDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "beacon-secrets-confd-" + UUID().uuidString
        let files = [
            "templates/values.tmpl": "{{#values(secrets-tool)}}{{.}}\n{{/values(secrets-tool)}}",
            "conf.d/values.toml": """
            [template]
            src = "values.tmpl"
            dest = "\(directory)/out/values.txt"
            keys = ["/secrets-tool"]

            """,
        ]
        for (path, text) in files {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
        return directory
    }

    /// Records what a tool printed and how it ended.
    static func record(
        _ run: (status: Int32, output: String, error: String),
        of what: String,
        in capture: SecretsCapture
    ) {
        capture.record("the standard output of \(what)", run.output)
        capture.record("the standard error of \(what)", run.error)
        capture.logger.debug("tool ended", metadata: ["tool": "\(what)", "status": "\(run.status)"])
    }

    @Test("beacon-register: passwords on the command line and in BEACON_PASSWORD, wrong and right, and a check URL")
    func registerTool() async throws {
        let capture = SecretsCapture()
        let node = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = PlantedSecret(name: "etcd password", value: try TestServers.value("BEACON_ETCD_AUTH_PASSWORD"))
        let wrong = Self.plant("wrong etcd password")
        let inCheck = Self.plant("password in a check URL")
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let check = "http://probe:\(inCheck.value)@127.0.0.1:\(server.port)/health?token=\(inCheck.value)"
        let key = TestServers.uniquePrefix("secrets-register") + "instance"

        let runs: [(String, [String], [String: String])] = [
            ("wrong -password", ["-password", wrong.value], [:]),
            ("wrong BEACON_PASSWORD", [], ["BEACON_PASSWORD": wrong.value]),
            ("right -password", ["-password", password.value], [:]),
            ("right BEACON_PASSWORD", [], ["BEACON_PASSWORD": password.value]),
        ]
        for (what, extra, environment) in runs {
            let tool = try ToolProcess(
                "beacon-register",
                [
                    "-backend", "etcdv3", "-node", node, "-username", user, "-key", key, "-value", "127.0.0.1:1",
                    "-check-http", check, "-interval", "0.1", "-ttl", "10", "-failures", "2", "-log-level", "trace",
                ] + extra,
                environment: environment
            )
            let registered = try await eventually(timeout: .seconds(3)) {
                tool.output.contains("registered") || tool.errorOutput.contains("registered")
            }
            #expect(registered == what.hasPrefix("right"), "\(what)")
            server.setStatus(503)
            try await Task.sleep(for: .milliseconds(500))
            server.setStatus(200)
            tool.signal(SIGTERM)
            let status = await tool.waitForExit()
            Self.record((status, tool.output, tool.errorOutput), of: "beacon-register (\(what))", in: capture)
        }
        capture.expectNoSecrets([password, wrong, inCheck])
    }

    @Test(
        "beacon-confd: an etcd password and a Consul token, wrong and right, on the command line and in the environment"
    )
    func confdTool() async throws {
        let capture = SecretsCapture()
        let etcd = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let consul = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = PlantedSecret(name: "etcd password", value: try TestServers.value("BEACON_ETCD_AUTH_PASSWORD"))
        let token = PlantedSecret(name: "Consul ACL token", value: try TestServers.value("BEACON_CONSUL_ACL_TOKEN"))
        let wrong = Self.plant("wrong etcd password or Consul token")
        let directory = try Self.confdDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let etcdArguments = ["-backend", "etcdv3", "-node", etcd, "-username", user]
        let consulArguments = ["-backend", "consul", "-node", consul]
        let runs: [(String, [String], [String: String], Bool)] = [
            ("etcd, wrong -password", etcdArguments + ["-password", wrong.value], [:], false),
            ("etcd, wrong BEACON_PASSWORD", etcdArguments, ["BEACON_PASSWORD": wrong.value], false),
            ("etcd, right -password", etcdArguments + ["-password", password.value], [:], true),
            ("etcd, right BEACON_PASSWORD", etcdArguments, ["BEACON_PASSWORD": password.value], true),
            ("Consul, wrong -token", consulArguments + ["-token", wrong.value], [:], false),
            ("Consul, wrong BEACON_CONSUL_TOKEN", consulArguments, ["BEACON_CONSUL_TOKEN": wrong.value], false),
            ("Consul, right -token", consulArguments + ["-token", token.value], [:], true),
            ("Consul, right BEACON_CONSUL_TOKEN", consulArguments, ["BEACON_CONSUL_TOKEN": token.value], true),
            (
                "Consul, -username and -password", consulArguments + ["-username", user, "-password", wrong.value], [:],
                false
            ),
        ]
        for (what, arguments, environment, works) in runs {
            let run = try await ToolProcess.run(
                "beacon-confd",
                ["-onetime", "-confdir", directory, "-log-level", "trace"] + arguments,
                environment: environment
            )
            // A wrong Consul token is not refused: the agent's default deny filters what it may read, as Consul does.
            if !what.hasPrefix("Consul, wrong") { #expect((run.status == 0) == works, "\(what): \(run.error)") }
            Self.record(run, of: "beacon-confd (\(what))", in: capture)
        }
        capture.expectNoSecrets([password, token, wrong])
    }

    @Test("beacon-demo: a Consul token in BEACON_CONSUL_TOKEN, wrong and right, and a password in an etcd URL")
    func demoTool() async throws {
        let capture = SecretsCapture()
        let consul = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let etcd = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let token = PlantedSecret(name: "Consul ACL token", value: try TestServers.value("BEACON_CONSUL_ACL_TOKEN"))
        let wrong = Self.plant("wrong Consul token")
        let inURL = Self.plant("password in an etcd URL")
        let runs: [(String, [String], [String: String])] = [
            ("Consul, wrong token", ["--consul", consul], ["BEACON_CONSUL_TOKEN": wrong.value]),
            ("Consul, right token", ["--consul", consul], ["BEACON_CONSUL_TOKEN": token.value]),
            ("etcd URL with a password", ["--etcd", etcd.replacing("://", with: "://demo:\(inURL.value)@")], [:]),
            ("unreachable etcd URL with a password", ["--etcd", "http://demo:\(inURL.value)@127.0.0.1:1"], [:]),
        ]
        for (what, arguments, environment) in runs {
            let run = try await ToolProcess.run("beacon-demo", arguments, environment: environment)
            Self.record(run, of: "beacon-demo (\(what))", in: capture)
        }
        capture.expectNoSecrets([token, wrong, inURL])
    }
}
