// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@Suite("DiscoverySource.changes(prefix:)", .timeLimit(.minutes(1)))
struct DiscoveryChangesTests {
    /// Applies batches to a dictionary, as a consumer of the API does.
    struct Mirror {
        var entries: [String: KeyValue] = [:]

        mutating func apply(_ batch: DiscoveryChangeBatch) {
            if batch.isReset { self.entries = [:] }
            for change in batch.changes {
                self.entries[change.key] = change.kind == .put ? change.entry : nil
            }
        }

        var strings: [String: String] { self.entries.mapValues(\.string) }
    }

    @Test("a snapshot diff gives puts for new and changed keys and deletes for gone ones, in key order")
    func snapshotDiff() {
        let old = DiscoverySnapshot(
            prefix: "/p/",
            entries: [
                KeyValue(key: "/p/a", string: "1", version: 1), KeyValue(key: "/p/b", string: "2", version: 1),
                KeyValue(key: "/p/d", string: "4", version: 1),
            ]
        )
        let new = DiscoverySnapshot(
            prefix: "/p/",
            entries: [
                KeyValue(key: "/p/a", string: "1", version: 1), KeyValue(key: "/p/b", string: "two", version: 2),
                KeyValue(key: "/p/c", string: "3", version: 2),
            ]
        )
        #expect(
            new.changes(since: old) == [
                .put(KeyValue(key: "/p/b", string: "two", version: 2)),
                .put(KeyValue(key: "/p/c", string: "3", version: 2)),
                .delete("/p/d"),
            ]
        )
        #expect(new.changes(since: new).isEmpty)
    }

    @Test("the default implementation diffs snapshots: reset first, then puts, deletes and a prefix delete")
    func defaultImplementation() async throws {
        let source = StaticSource(["/p/a": "1", "/p/b": "2", "/other": "x"])
        var iterator = source.changes(prefix: "/p/").makeAsyncIterator()
        var mirror = Mirror()

        let first = try #require(try await iterator.next())
        #expect(first.isReset)
        #expect(first.changes.map(\.key) == ["/p/a", "/p/b"])
        mirror.apply(first)

        source.set("/p/c", to: "3")
        let put = try #require(try await iterator.next())
        #expect(!put.isReset)
        #expect(put.changes == [.put(KeyValue(key: "/p/c", string: "3", version: source.revision))])
        #expect(put.revision == source.revision)
        mirror.apply(put)

        source.delete("/p/a")
        let delete = try #require(try await iterator.next())
        #expect(delete.changes == [.delete("/p/a")])
        mirror.apply(delete)
        #expect(mirror.strings == ["/p/b": "2", "/p/c": "3"])

        source.set("/other", to: "y")  // Outside the prefix: no batch.
        source.delete(prefix: "/p/")
        let prefixDelete = try #require(try await iterator.next())
        #expect(prefixDelete.changes == [.delete("/p/b"), .delete("/p/c")])
        mirror.apply(prefixDelete)
        #expect(mirror.entries.isEmpty)
    }

    @Test("a change subscription ends when its task is cancelled")
    func cancellation() async throws {
        let source = StaticSource(["/p/a": "1"])
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
