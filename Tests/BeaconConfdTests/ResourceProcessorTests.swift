// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import Foundation
import Logging
import Testing

@Suite("Putting rendered files in place")
struct ResourceProcessorTests {
    static let template = "upstream backend {\n{{#values(test)}}\n    server {{.}};\n{{/values(test)}}\n}\n"
    static let twoServers = TemplateData(values: ["/test/a": "127.0.0.1:8001", "/test/b": "127.0.0.1:8002"])
    static let expected = "upstream backend {\n    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n}\n"

    let directory: TemporaryDirectory

    init() throws {
        self.directory = try TemporaryDirectory()
    }

    func processor(
        check: String? = nil,
        reload: String? = nil,
        mode: UInt32? = nil,
        destination: String? = nil,
        configuration: ResourceProcessor.Configuration = .init()
    ) throws -> ResourceProcessor {
        let source = try self.directory.write("templates/t.tmpl", Self.template)
        let resource = TemplateResource(
            name: "t.toml",
            source: source,
            destination: destination ?? self.directory.path + "/out/backend.conf",
            keys: ["/test"],
            mode: mode,
            checkCommand: check,
            reloadCommand: reload
        )
        try FileManager.default.createDirectory(atPath: self.directory.path + "/out", withIntermediateDirectories: true)
        return try ResourceProcessor(resource: resource, configuration: configuration, logger: Logger(label: "test"))
    }

    /// The files in the destination's directory, to show no staged file is left behind.
    var outputFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: self.directory.path + "/out")) ?? []).sorted()
    }

    @Test("Renders, writes with mode 0644, and does nothing when nothing changed")
    func writeThenInSync() async throws {
        let processor = try self.processor(reload: "echo reloaded >> \(self.directory.path)/reloads")
        #expect(try await processor.process(Self.twoServers) == .updated)
        #expect(self.directory.read("out/backend.conf") == Self.expected)
        let attributes = try FileManager.default.attributesOfItem(atPath: self.directory.path + "/out/backend.conf")
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try await processor.process(Self.twoServers) == .unchanged)
        #expect(self.directory.read("reloads") == "reloaded\n")
        #expect(self.outputFiles == ["backend.conf"])
    }

    @Test("The check sees the staged file; reload runs after the rename")
    func checkThenReload() async throws {
        let log = self.directory.path + "/log"
        let processor = try self.processor(
            check: "grep -q 8002 {{.src}} && test ! -e {{.dest}} -o {{.src}} != {{.dest}} && echo checked >> \(log)",
            reload: "cat {{.dest}} >> \(log)"
        )
        #expect(try await processor.process(Self.twoServers) == .updated)
        #expect(self.directory.read("log") == "checked\n" + Self.expected)
    }

    @Test("A failed check keeps the old destination and says why")
    func failedCheck() async throws {
        let good = try self.processor()
        _ = try await good.process(Self.twoServers)
        let strict = try self.processor(
            check: "if grep -q broken {{.src}}; then echo 'invalid server address' >&2; exit 1; fi",
            reload: "touch \(self.directory.path)/reloaded"
        )
        let broken = TemplateData(values: ["/test/a": "broken"])
        let error = await #expect(throws: ConfdError.self) { try await strict.process(broken) }
        #expect(error?.code == .checkFailed)
        #expect(error?.message.contains("status 1") == true)
        #expect(error?.message.contains("invalid server address") == true)
        #expect(self.directory.read("out/backend.conf") == Self.expected)
        #expect(self.directory.read("reloaded") == nil)
        #expect(self.outputFiles == ["backend.conf"])
    }

    @Test("A missing key changes nothing on disk")
    func missingKey() async throws {
        let source = try self.directory.write("templates/m.tmpl", "server {{test.c}};\n")
        let processor = try ResourceProcessor(
            resource: TemplateResource(
                name: "m",
                source: source,
                destination: self.directory.path + "/m.conf",
                keys: ["/test"]
            ),
            logger: Logger(label: "test")
        )
        let error = await #expect(throws: ConfdError.self) { try await processor.process(Self.twoServers) }
        #expect(error?.key == "/test/c")
        #expect(!FileManager.default.fileExists(atPath: self.directory.path + "/m.conf"))
    }

    @Test("noop reports the changed lines and writes nothing")
    func noop() async throws {
        _ = try await self.processor().process(Self.twoServers)
        let noop = try self.processor(reload: "touch \(self.directory.path)/reloaded", configuration: .init(noop: true))
        let outcome = try await noop.process(
            TemplateData(values: ["/test/a": "127.0.0.1:8001", "/test/b": "127.0.0.1:8003"])
        )
        #expect(outcome == .wouldUpdate(changes: ["-3:     server 127.0.0.1:8002;", "+3:     server 127.0.0.1:8003;"]))
        #expect(self.directory.read("out/backend.conf") == Self.expected)
        #expect(self.directory.read("reloaded") == nil)
        #expect(self.outputFiles == ["backend.conf"])
    }

    @Test("sync-only writes the file without the check or the reload")
    func syncOnly() async throws {
        let processor = try self.processor(
            check: "false",
            reload: "touch \(self.directory.path)/reloaded",
            configuration: .init(syncOnly: true)
        )
        #expect(try await processor.process(Self.twoServers) == .updated)
        #expect(self.directory.read("out/backend.conf") == Self.expected)
        #expect(self.directory.read("reloaded") == nil)
    }

    @Test("The resource's mode is applied, and a change of mode alone rewrites the file")
    func mode() async throws {
        _ = try await self.processor().process(Self.twoServers)
        #expect(try await self.processor(mode: 0o600).process(Self.twoServers) == .updated)
        let attributes = try FileManager.default.attributesOfItem(atPath: self.directory.path + "/out/backend.conf")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("A destination directory that cannot be written: the error names the path")
    func unwritableDestination() async throws {
        let processor = try self.processor(destination: self.directory.path + "/missing-dir/backend.conf")
        let error = await #expect(throws: ConfdError.self) { try await processor.process(Self.twoServers) }
        #expect(error?.code == .unwritableDestination)
        #expect(error?.file == self.directory.path + "/missing-dir")
    }

    @Test("A failed reload is reported after the destination was replaced")
    func failedReload() async throws {
        let processor = try self.processor(reload: "echo 'nginx: no pid' >&2; exit 3")
        let error = await #expect(throws: ConfdError.self) { try await processor.process(Self.twoServers) }
        #expect(error?.code == .reloadFailed)
        #expect(error?.message.contains("status 3") == true)
        #expect(error?.message.contains("nginx: no pid") == true)
        #expect(self.directory.read("out/backend.conf") == Self.expected)
    }
}
