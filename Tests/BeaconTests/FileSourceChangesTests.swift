// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@Suite("FileSource.changes(prefix:)", .timeLimit(.minutes(1)))
struct FileSourceChangesTests {
    static func json(_ values: [String: String]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    @Test("a reset batch first, then only the keys a reload changed under the prefix")
    func putsAndDeletes() async throws {
        let directory = try FileSourceTests.Directory()
        var values = ["/p/a": "1", "/p/b": "2", "/q/x": "9"]
        let path = try directory.write("keys.json", Self.json(values))
        // Polling is left to the explicit reloads below.
        let source = try FileSource(path: path, configuration: .init(pollInterval: .seconds(3_600)))
        var iterator = source.changes(prefix: "/p/").makeAsyncIterator()
        var mirror = DiscoveryChangesTests.Mirror()

        let first = try #require(try await iterator.next())
        #expect(first.isReset)
        #expect(first.changes.map(\.key) == ["/p/a", "/p/b"])
        #expect(first.revision == 1)
        mirror.apply(first)

        values["/p/b"] = "two"
        values["/p/c"] = "3"
        values["/q/x"] = "10"
        _ = try directory.write("keys.json", Self.json(values))
        #expect(try source.reload())
        let put = try #require(try await iterator.next())
        #expect(!put.isReset)
        #expect(
            put.changes == [
                .put(KeyValue(key: "/p/b", string: "two", version: 2)),
                .put(KeyValue(key: "/p/c", string: "3", version: 2)),
            ]
        )
        #expect(put.revision == 2)
        mirror.apply(put)

        // A change outside the prefix gives no batch; the delete of the whole prefix arrives as one batch.
        values["/q/x"] = "11"
        _ = try directory.write("keys.json", Self.json(values))
        #expect(try source.reload())
        values = ["/q/x": "11"]
        _ = try directory.write("keys.json", Self.json(values))
        #expect(try source.reload())
        let delete = try #require(try await iterator.next())
        #expect(
            delete.changes == [.delete("/p/a", version: 4), .delete("/p/b", version: 4), .delete("/p/c", version: 4)]
        )
        #expect(delete.revision == 4)
        mirror.apply(delete)
        #expect(mirror.entries.isEmpty)

        // The snapshot API is unchanged.
        #expect(try await source.watch(prefix: "/q/").first { _ in true }?.map(\.string) == ["11"])
    }

    @Test("a subscriber that falls further behind than the log reaches gets a reset batch")
    func fallingBehind() async throws {
        let directory = try FileSourceTests.Directory()
        let path = try directory.write("keys.json", Self.json(["/p/a": "0"]))
        let source = try FileSource(path: path, configuration: .init(pollInterval: .seconds(3_600)))
        var iterator = source.changes(prefix: "/p/").makeAsyncIterator()
        #expect(try await iterator.next()?.isReset == true)
        for round in 1...70 {
            _ = try directory.write("keys.json", Self.json(["/p/a": String(round)]))
            #expect(try source.reload())
        }
        let batch = try #require(try await iterator.next())
        #expect(batch.isReset)
        #expect(batch.changes.map(\.entry.string) == ["70"])
        #expect(batch.revision == source.generation)
    }

    @Test("a file change subscription ends when its task is cancelled")
    func cancellation() async throws {
        let directory = try FileSourceTests.Directory()
        let path = try directory.write("keys.json", Self.json(["/p/a": "1"]))
        let source = try FileSource(path: path, configuration: .init(pollInterval: .seconds(3_600)))
        let task = Task {
            var batches = 0
            for try await _ in source.changes(prefix: "/p/") { batches += 1 }
            return batches
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(try await task.value == 1)
    }
}
