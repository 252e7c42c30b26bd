// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import BeaconEtcd
import BeaconTesting
import BeaconZooKeeper
import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import UnixSignals

/// The `beacon-confd` executable as an operator runs it, against the real etcd, with the story's files.
@Suite("The beacon-confd command", .requiresServers)
final class ConfdToolTests {
    let etcd: EtcdClient
    let node: String
    let prefix: String
    let confdir: String

    /// The story's template (`{{range getvs "/test/*"}} server {{.}}; {{end}}`), rewritten in Mustache.
    static let storyTemplate = """
        events {
            worker_connections  1024;
        }

        http {
            upstream backend {
                {{#values(test)}}
                server {{.}};
                {{/values(test)}}
            }

            server {
                server_name www.example.com;

                location / {
                    proxy_pass http://backend;
                    add_header  X-Handler  $upstream_addr;
                }
            }
        }

        """

    init() throws {
        self.node = try TestServers.value("BEACON_ETCD_ENDPOINT")
        self.etcd = try EtcdClient(configuration: .init(endpoints: [self.node]), logger: Logger(label: "beacon.test"))
        self.prefix = String(TestServers.uniquePrefix("confd-tool").dropLast())
        self.confdir = NSTemporaryDirectory() + "beacon-confd-tool-" + UUID().uuidString
        try self.write("templates/nginx.conf.tmpl", Self.storyTemplate)
        try self.write(
            "conf.d/nginx.toml",
            """
            [template]
            src = "nginx.conf.tmpl"
            dest = "\(self.confdir)/out/nginx.conf"
            keys = [
                "/test",
            ]

            """
        )
        try FileManager.default.createDirectory(atPath: self.confdir + "/out", withIntermediateDirectories: true)
    }

    deinit {
        self.etcd.close()
        try? FileManager.default.removeItem(atPath: self.confdir)
    }

    func write(_ path: String, _ text: String) throws {
        let full = self.confdir + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    var rendered: String? { try? String(contentsOfFile: self.confdir + "/out/nginx.conf", encoding: .utf8) }

    func confd(_ extra: [String] = []) async throws -> (status: Int32, output: String, error: String) {
        try await ToolProcess.run(
            "beacon-confd",
            ["-onetime", "-confdir", self.confdir, "-backend", "etcdv3", "-node", self.node, "-prefix", self.prefix]
                + extra
        )
    }

    /// The lines from `upstream` to its closing brace, with their common indentation removed.
    static func upstreamBlock(of text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("upstream backend {") }) else { return "" }
        let indentation = lines[start].prefix { $0 == " " }.count
        var block: [Substring] = []
        for line in lines[start...] {
            block.append(line.dropFirst(min(indentation, line.prefix { $0 == " " }.count)))
            if line.prefix(indentation + 1).trimmingCharacters(in: .whitespaces) == "}" { break }
        }
        return block.joined(separator: "\n")
    }

    @Test("-onetime renders the story's upstream: servers in key order, no blank lines, four more spaces")
    func storyUpstream() async throws {
        _ = try await self.etcd.put(self.prefix + "/test/apache-8002", "127.0.0.1:8002")
        _ = try await self.etcd.put(self.prefix + "/test/apache-8001", "127.0.0.1:8001")
        let run = try await self.confd()
        #expect(run.status == 0, "\(run.error)")
        #expect(
            Self.upstreamBlock(of: try #require(self.rendered)) == """
                upstream backend {
                    server 127.0.0.1:8001;
                    server 127.0.0.1:8002;
                }
                """
        )
    }

    @Test("-noop prints what would change and writes nothing")
    func noop() async throws {
        _ = try await self.etcd.put(self.prefix + "/test/apache-8001", "127.0.0.1:8001")
        #expect(try await self.confd().status == 0)
        let before = try #require(self.rendered)
        _ = try await self.etcd.put(self.prefix + "/test/apache-8003", "127.0.0.1:8003")
        let run = try await self.confd(["-noop"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("out/nginx.conf would change:"))
        #expect(run.output.contains("+8:         server 127.0.0.1:8003;"))
        #expect(self.rendered == before)
    }

    @Test("Bad input: a clear error naming the file and line, the key, or the path; the files stay as they were")
    func badInput() async throws {
        _ = try await self.etcd.put(self.prefix + "/test/apache-8001", "127.0.0.1:8001")
        #expect(try await self.confd().status == 0)
        let before = try #require(self.rendered)

        try self.write("conf.d/broken.toml", "[template]\nsrc = \"nginx.conf.tmpl\"\ndest = \"x\nkeys = [\"/test\"]\n")
        var run = try await self.confd()
        #expect(run.status == 1)
        #expect(run.error.contains("malformed resource: \(self.confdir)/conf.d/broken.toml:3"), "\(run.error)")
        try FileManager.default.removeItem(atPath: self.confdir + "/conf.d/broken.toml")

        try self.write("templates/nginx.conf.tmpl", "upstream backend {\n{{#values(test)}}\n{{/values(tset)}}\n}\n")
        run = try await self.confd()
        #expect(run.status == 1)
        #expect(run.error.contains("invalid template: \(self.confdir)/templates/nginx.conf.tmpl:3:"), "\(run.error)")

        try self.write("templates/nginx.conf.tmpl", "upstream backend {\n    server {{test.apache-9999}};\n}\n")
        run = try await self.confd()
        #expect(run.status == 1)
        #expect(run.error.contains("the template reads /test/apache-9999, which does not exist"), "\(run.error)")

        try self.write("templates/nginx.conf.tmpl", "{{range getvs \"/test/*\"}}server {{.}};{{end}}\n")
        run = try await self.confd()
        #expect(run.status == 1)
        #expect(run.error.contains("Go template"), "\(run.error)")
        #expect(run.error.contains("Documentation/Confd.md"), "\(run.error)")

        try self.write("templates/nginx.conf.tmpl", Self.storyTemplate)
        try self.write(
            "conf.d/nginx.toml",
            "[template]\nsrc = \"nginx.conf.tmpl\"\ndest = \"\(self.confdir)/missing/nginx.conf\"\nkeys = [\"/test\"]\n"
        )
        run = try await self.confd()
        #expect(run.status == 1)
        #expect(run.error.contains("unwritable destination: \(self.confdir)/missing"), "\(run.error)")
        #expect(self.rendered == before)
    }
}

extension ConfdToolTests {
    @Test("-watch renders each change and exits 0 on SIGTERM")
    func watchUntilSIGTERM() async throws {
        _ = try await self.etcd.put(self.prefix + "/test/apache-8001", "127.0.0.1:8001")
        let tool = try ToolProcess(
            "beacon-confd",
            ["-watch", "-confdir", self.confdir, "-node", self.node, "-prefix", self.prefix, "-log-level", "info"]
        )
        #expect(try await eventually { self.rendered?.contains("server 127.0.0.1:8001;") == true })
        _ = try await self.etcd.put(self.prefix + "/test/apache-8002", "127.0.0.1:8002")
        #expect(try await eventually { self.rendered?.contains("server 127.0.0.1:8002;") == true })
        tool.signal(SIGTERM)
        #expect(await tool.waitForExit() == 0)
        #expect(tool.errorOutput.contains("Destination updated"))
    }
}

/// The `beacon-confd` executable with `-backend zookeeper`, against the ZooKeeper of `scripts/servers`.
@Suite("The beacon-confd command over ZooKeeper", .requiresServers)
struct ConfdToolZooKeeperTests {
    @Test("-backend zookeeper -onetime renders the story's upstream from ZooKeeper nodes, in key order")
    func storyUpstream() async throws {
        let node = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("confd-tool")
        try await zookeeper.put(root + "/test/apache-8002", "127.0.0.1:8002")
        try await zookeeper.put(root + "/test/apache-8001", "127.0.0.1:8001")
        // A node without data is a directory, not a key: it renders no server line.
        try await zookeeper.create(root + "/test/pending")
        let confdir = NSTemporaryDirectory() + "beacon-confd-zookeeper-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: confdir) }
        for (path, text) in [
            ("templates/nginx.conf.tmpl", ConfdToolTests.storyTemplate),
            (
                "conf.d/nginx.toml",
                "[template]\nsrc = \"nginx.conf.tmpl\"\ndest = \"\(confdir)/out/nginx.conf\"\nkeys = [\"/test\"]\n"
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

        let run = try await ToolProcess.run(
            "beacon-confd",
            ["-onetime", "-confdir", confdir, "-backend", "zookeeper", "-node", node, "-prefix", root]
        )
        #expect(run.status == 0, "\(run.error)")
        let rendered = try String(contentsOfFile: confdir + "/out/nginx.conf", encoding: .utf8)
        #expect(
            ConfdToolTests.upstreamBlock(of: rendered) == """
                upstream backend {
                    server 127.0.0.1:8001;
                    server 127.0.0.1:8002;
                }
                """
        )
        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }
}

/// Documentation/Confd.md's "In an app", as written there (the etcd address and the confdir are the test's).
@Suite("Documentation/Confd.md in an app", .requiresServers)
struct ConfdGuideAppTests {
    @Test("the Confd service in a ServiceGroup renders, then stops on graceful shutdown")
    func inAnApp() async throws {
        let tool = try ConfdToolTests()
        _ = try await tool.etcd.put(tool.prefix + "/test/apache-8001", "127.0.0.1:8001")
        try tool.write(
            "conf.d/nginx.toml",
            "[template]\nsrc = \"nginx.conf.tmpl\"\ndest = \"\(tool.confdir)/out/nginx.conf\"\nkeys = [\"/test\"]\n"
                + "prefix = \"\(tool.prefix)\"\n"
        )
        let endpoint = tool.node
        let confdir = tool.confdir
        try await testGracefulShutdown { trigger in
            // The guide's code:
            let logger = Logger(label: "confd")
            let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]), logger: logger)
            let confd = try Confd(
                resources: try TemplateResource.loadAll(confdir: confdir),
                source: etcd,
                configuration: .init(mode: .watch),
                logger: logger
            )
            let group = ServiceGroup(services: [etcd, confd], gracefulShutdownSignals: [.sigterm], logger: logger)
            // … run until the file is rendered, then shut down as SIGTERM would.
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await eventually { tool.rendered?.contains("server 127.0.0.1:8001;") == true })
                trigger.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
