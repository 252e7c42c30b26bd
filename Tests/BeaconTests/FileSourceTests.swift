// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import InMemoryLogging
import Logging
import Testing

@Suite("FileSource", .timeLimit(.minutes(1)))
struct FileSourceTests {
    /// A temporary directory removed when the test ends.
    final class Directory {
        let url: URL

        init() throws {
            self.url = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-file-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: self.url) }

        /// Writes a file atomically (temporary file, then rename), as editors do.
        func write(_ name: String, _ content: String) throws -> String {
            let path = self.url.appendingPathComponent(name).path
            try Data(content.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return path
        }
    }

    static let yaml = """
        # services
        db:
          main:
            endpoint: 127.0.0.1:5432
            port: 5432
            enabled: true
            replica: ~
        memcached:
          servers:
            - 10.0.0.11:11211
            - "10.0.0.12:11211"
        "/flat/key": value
        """

    static let json = """
        {
          "db": {"main": {"endpoint": "127.0.0.1:5432", "port": 5432, "enabled": true, "replica": null}},
          "memcached": {"servers": ["10.0.0.11:11211", "10.0.0.12:11211"]},
          "/flat/key": "value"
        }
        """

    @Test(
        "JSON and YAML files give the same keys",
        arguments: [("services.yaml", Self.yaml), ("services.json", Self.json)]
    )
    func formats(_ file: (name: String, content: String)) async throws {
        let directory = try Directory()
        let source = try FileSource(path: try directory.write(file.name, file.content))
        let entries = await source.list(prefix: "")
        #expect(
            entries.map(\.key) == [
                "/db/main/enabled", "/db/main/endpoint", "/db/main/port", "/flat/key", "/memcached/servers/0",
                "/memcached/servers/1",
            ]
        )
        #expect(await source.get("/db/main/port")?.string == "5432")
        #expect(await source.get("/db/main/enabled")?.string == "true")
        #expect(await source.get("/db/main/replica") == nil)
        #expect(try await source.list(prefix: "/memcached/servers/").map { try $0.endpoint() }.count == 2)
        #expect(entries.allSatisfy { $0.version == 1 })
    }

    @Test("the format is sniffed for other extensions")
    func sniffing() async throws {
        let directory = try Directory()
        #expect(await (try FileSource(path: try directory.write("a.conf", #"{"k": "v"}"#))).get("/k")?.string == "v")
        #expect(await (try FileSource(path: try directory.write("b.conf", "k: v\n"))).get("/k")?.string == "v")
        let path = try directory.write("c.yaml", "k: v\n")
        #expect(throws: BeaconError.self) { try FileSource(path: path, configuration: .init(format: .json)) }
    }

    static let malformed: [(name: String, content: String, line: Int, words: String)] = [
        ("a.json", "{\n  \"a\": 1,\n  \"b\": [1, 2,\n  }\n}", 4, "expected a value"),
        ("b.json", "{\"a\": \"x\n\"}", 1, "control character"),
        ("c.json", "{\"a\": 1}\n{\"b\": 2}", 2, "after the end"),
        ("d.json", "{\"a\": 1,\n \"a\": 2}", 2, "appears twice"),
        ("e.json", "[1, 2]", 1, "must be a map"),
        ("f.yaml", "db:\n  main:\n    endpoint: [oops\n", 4, "did not find expected"),
        ("g.yaml", "a: 1\n b: 2\n", 2, "mapping values are not allowed"),
        ("h.yaml", "a: 1\nb: 2\na: 3\n", 3, "appears twice"),
        // Lines end in CRLF, or in CR alone, which YAML also counts as a line break (a fuzzer's input with a run
        // of CRs used to crash the search for the second key).
        ("h-crlf.yaml", "a: 1\r\nb: 2\r\na: 3\r\n", 3, "appears twice"),
        ("h-cr.yaml", "# x\r\r\r\ra: 1\rb: 2\ra: 3\r", 7, "appears twice"),
        ("i.yaml", "a/b: 1\na:\n  b: 2\n", 3, "defined twice"),
        ("j.json", "{\"a\": tru}", 1, "expected a value"),
    ]

    @Test("a malformed file is an error naming the file and the line", arguments: Self.malformed)
    func malformedFile(_ example: (name: String, content: String, line: Int, words: String)) throws {
        let directory = try Directory()
        let path = try directory.write(example.name, example.content)
        let error = #expect(throws: BeaconError.self) { try FileSource(path: path) }
        #expect(error?.code == .malformedFile)
        #expect(error?.file == path)
        #expect(error?.line == example.line, "\(error?.description ?? "")")
        #expect(error?.description.contains(example.words) == true, "\(error?.description ?? "")")
        #expect(error?.description.hasPrefix("malformed file \(path) at line \(example.line)") == true)
    }

    @Test("a missing file is an error naming the file and the reason")
    func missingFile() {
        let error = #expect(throws: BeaconError.self) { try FileSource(path: "/nonexistent/beacon.yaml") }
        #expect(error?.code == .unreadableFile)
        #expect(
            error?.description
                == "unreadable file /nonexistent/beacon.yaml: the file cannot be read: No such file or directory"
        )
    }

    @Test("reload keeps versions of unchanged values and bumps changed ones")
    func versions() async throws {
        let directory = try Directory()
        let path = try directory.write("s.yaml", "a: 1\nb: 2\n")
        let source = try FileSource(path: path)
        #expect(try !source.reload())
        _ = try directory.write("s.yaml", "a: 1\nb: 3\n")
        #expect(try source.reload())
        #expect(await source.get("/a")?.version == 1)
        #expect(await source.get("/b")?.version == 2)
        _ = try directory.write("s.yaml", "# same values\na: 1\nb: 3\n")
        #expect(try !source.reload())
        #expect(source.generation == 2)
    }

    @Test("a bad rewrite keeps the last good values, reports the error once, and recovers")
    func badRewrite() async throws {
        let directory = try Directory()
        let path = try directory.write("s.yaml", "db:\n  endpoint: a:1\n")
        let logs = InMemoryLogHandler()
        let source = try FileSource(path: path, logger: Logger(label: "test", factory: { _ in logs }))

        _ = try directory.write("s.yaml", "db:\n  endpoint: [a:2\n")
        let error = #expect(throws: BeaconError.self) { try source.reload() }
        #expect(error?.line == 3)
        #expect(source.lastReloadError?.code == .malformedFile)
        #expect(await source.get("/db/endpoint")?.string == "a:1")
        #expect(throws: BeaconError.self) { try source.reload() }
        #expect(logs.entries.filter { $0.level == .warning }.count == 1)

        try FileManager.default.removeItem(atPath: path)
        #expect(throws: BeaconError.self) { try source.reload() }
        #expect(source.lastReloadError?.code == .unreadableFile)
        #expect(await source.get("/db/endpoint")?.string == "a:1")

        _ = try directory.write("s.yaml", "db:\n  endpoint: a:3\n")
        #expect(try source.reload())
        #expect(source.lastReloadError == nil)
        #expect(await source.get("/db/endpoint")?.string == "a:3")
        #expect(logs.entries.contains { $0.level == .info })
    }

    @Test("a watch follows edits, skips bad content and emits only real changes")
    func watch() async throws {
        let directory = try Directory()
        let path = try directory.write("s.json", #"{"svc": {"a": "1"}, "other": "x"}"#)
        let source = try FileSource(path: path, configuration: .init(pollInterval: .milliseconds(10)))
        let watcher = Task {
            var seen: [[String]] = []
            for try await snapshot in source.watch(prefix: "/svc/") {
                seen.append(snapshot.map(\.string))
                if snapshot.count == 2 { break }
            }
            return seen
        }
        _ = try directory.write("s.json", #"{"svc": {"a": "1"}, "other": "changed outside the prefix"}"#)
        while await source.get("/other")?.string == "x" { try await Task.sleep(for: .milliseconds(5)) }
        _ = try directory.write("s.json", #"{"svc": {"a": "1", "b": "2"#)
        while source.lastReloadError == nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await source.get("/svc/a")?.string == "1")
        _ = try directory.write("s.json", #"{"svc": {"a": "1", "b": "2"}}"#)
        #expect(try await watcher.value == [["1"], ["1", "2"]])
        #expect(source.lastReloadError == nil)
    }

    @Test("a watch ends when its task is cancelled")
    func watchCancellation() async throws {
        let directory = try Directory()
        let source = try FileSource(
            path: try directory.write("s.yaml", "a: 1\n"),
            configuration: .init(pollInterval: .seconds(30))
        )
        let watcher = Task {
            var count = 0
            for try await _ in source.watch(prefix: "/") { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        watcher.cancel()
        #expect(try await watcher.value == 1)
    }
}
