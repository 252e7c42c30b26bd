// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConfd
import BeaconLocks
import BeaconTesting
import Logging
import ServiceRunChecks
import Testing

@Suite("Keeping resources up to date")
struct ConfdServiceTests {
    let directory: TemporaryDirectory

    init() throws {
        self.directory = try TemporaryDirectory()
    }

    func resource(prefix: String = "") throws -> TemplateResource {
        TemplateResource(
            name: "backend.toml",
            source: try self.directory.write(
                "templates/t.tmpl",
                "{{#values(test)}}\nserver {{.}};\n{{/values(test)}}\n"
            ),
            destination: self.directory.path + "/backend.conf",
            keys: ["/test"],
            prefix: prefix,
            reloadCommand: "echo reload >> \(self.directory.path)/reloads"
        )
    }

    @Test("onetime renders every resource once and returns")
    func onetime() async throws {
        let source = StaticSource(["/app/test/a": "127.0.0.1:8001", "/other": "x"])
        let confd = try Confd(
            resources: [self.resource(prefix: "/app")],
            source: source,
            configuration: .init(mode: .onetime),
            logger: Logger(label: "test")
        )
        try await confd.run()
        #expect(self.directory.read("backend.conf") == "server 127.0.0.1:8001;\n")
    }

    @Test("onetime throws when a resource fails, after trying all of them")
    func onetimeFailure() async throws {
        let broken = TemplateResource(
            name: "broken.toml",
            source: try self.directory.write("templates/b.tmpl", "{{test.missing}}"),
            destination: self.directory.path + "/broken.conf",
            keys: ["/test"]
        )
        let confd = try Confd(
            resources: [broken, self.resource()],
            source: StaticSource(["/test/a": "127.0.0.1:8001"]),
            configuration: .init(mode: .onetime),
            logger: Logger(label: "test")
        )
        let error = await #expect(throws: ConfdError.self) { try await confd.run() }
        #expect(error?.key == "/test/missing")
        #expect(self.directory.read("backend.conf") == "server 127.0.0.1:8001;\n")
    }

    @Test("A template that does not parse is reported when Confd is made")
    func badTemplateAtStart() throws {
        let bad = TemplateResource(
            name: "bad.toml",
            source: try self.directory.write("templates/bad.tmpl", "{{#values(test)}}"),
            destination: self.directory.path + "/bad.conf",
            keys: ["/test"]
        )
        #expect(throws: ConfdError.self) {
            try Confd(resources: [bad], source: StaticSource(), logger: Logger(label: "test"))
        }
    }

    @Test("watch renders on each change and keeps the last file while discovery is down")
    func watch() async throws {
        let base = StaticSource(["/test/a": "127.0.0.1:8001"])
        let confd = try Confd(
            resources: [self.resource()],
            source: base,
            configuration: .init(mode: .watch, retryDelay: .milliseconds(20)),
            logger: Logger(label: "test")
        )
        let directory = self.directory
        try await ServiceRunChecks.expectRunsUntil(.gracefulShutdown, confd) { () async throws in
            #expect(try await eventually { directory.read("backend.conf") == "server 127.0.0.1:8001;\n" })
            base.set(["/test/b": "127.0.0.1:8002"])
            #expect(
                try await eventually {
                    directory.read("backend.conf") == "server 127.0.0.1:8001;\nserver 127.0.0.1:8002;\n"
                }
            )
            _ = base.delete("/test/a")
            #expect(try await eventually { directory.read("backend.conf") == "server 127.0.0.1:8002;\n" })
        }
        #expect(self.directory.read("reloads") == "reload\nreload\nreload\n")
    }

    @Test("watch follows a key again after its watch failed")
    func watchRetries() async throws {
        let source = UnwatchableSource(StaticSource(["/test/a": "127.0.0.1:8001"]))
        let confd = try Confd(
            resources: [self.resource()],
            source: source,
            configuration: .init(mode: .watch, retryDelay: .milliseconds(20)),
            logger: Logger(label: "test")
        )
        let directory = self.directory
        try await ServiceRunChecks.expectRunsUntil(.cancellation, confd) { () async throws in
            // Retried at least once, and nothing written meanwhile.
            #expect(try await eventually { source.failedWatches > 1 })
            #expect(directory.read("backend.conf") == nil)
            source.heal()
            #expect(try await eventually { directory.read("backend.conf") == "server 127.0.0.1:8001;\n" })
        }
    }

    @Test("interval mode runs until graceful shutdown")
    func interval() async throws {
        let confd = try Confd(
            resources: [self.resource()],
            source: StaticSource(["/test/a": "127.0.0.1:8001"]),
            configuration: .init(mode: .interval(.milliseconds(50))),
            logger: Logger(label: "test")
        )
        let directory = self.directory
        try await ServiceRunChecks.expectRunsUntil(.gracefulShutdown, confd) { () async throws in
            #expect(try await eventually { directory.read("backend.conf") == "server 127.0.0.1:8001;\n" })
        }
    }
}

/// A source whose watches fail until ``heal()``, as a backend that cannot be reached.
final class UnwatchableSource: DiscoverySource {
    private let base: StaticSource
    private let healed = Lock(false)
    private let failures = Lock(0)

    init(_ base: StaticSource) {
        self.base = base
    }

    var failedWatches: Int { self.failures.withLock { $0 } }

    func heal() { self.healed.withLock { $0 = true } }

    func get(_ key: String) async throws -> KeyValue? { await self.base.get(key) }

    func list(prefix: String) async throws -> [KeyValue] { await self.base.list(prefix: prefix) }

    func watch(prefix: String) -> DiscoveryWatch {
        guard self.healed.withLock({ $0 }) else {
            self.failures.withLock { $0 += 1 }
            return DiscoveryWatch { { throw BeaconError(.unavailable, "injected: the backend cannot be reached") } }
        }
        return self.base.watch(prefix: prefix)
    }
}
