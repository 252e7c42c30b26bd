// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@testable import BeaconEtcd

/// The change API of the etcd client, against the plain etcd of `scripts/servers`.
///
/// That etcd is shared: other tests compact it at any time, and a stream whose next revision was compacted delivers a
/// reset batch (the listing) instead of the events. So each test applies batches to a mirror until the mirror shows
/// its write, and checks a batch's exact shape only when it is not a reset.
@Suite("EtcdClient changes", .requiresServers, .timeLimit(.minutes(2)))
struct EtcdChangesTests {
    /// The entries a consumer holds after applying batches, and the batches that brought it there.
    struct Mirror {
        var entries: [String: String] = [:]
        var batches: [DiscoveryChangeBatch] = []

        /// Applies batches until `done` holds; returns the last one.
        mutating func apply(
            from iterator: inout DiscoveryChanges.AsyncIterator,
            until done: ([String: String]) -> Bool
        ) async throws -> DiscoveryChangeBatch {
            while true {
                let batch = try #require(try await iterator.next())
                self.batches.append(batch)
                if batch.isReset { self.entries = [:] }
                for change in batch.changes {
                    self.entries[change.key] = change.kind == .put ? change.entry.string : nil
                }
                if done(self.entries) { return batch }
            }
        }
    }

    @Test("a reset batch first, then one batch per write: puts, deletes and the delete of a prefix")
    func putsAndDeletes() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("changes")
        try await etcd.put("\(prefix)a", "1")
        try await etcd.put("\(prefix)b", "2")
        var iterator = etcd.changes(prefix: prefix).makeAsyncIterator()
        var mirror = Mirror()

        let first = try await mirror.apply(from: &iterator) { _ in true }
        #expect(first.isReset)
        #expect(mirror.entries == ["\(prefix)a": "1", "\(prefix)b": "2"])

        let putRevision = try await etcd.put("\(prefix)c", "3")
        let put = try await mirror.apply(from: &iterator) { $0["\(prefix)c"] == "3" }
        if !put.isReset {
            #expect(put.changes == [.put(KeyValue(key: "\(prefix)c", string: "3", version: putRevision))])
            #expect(put.revision == putRevision)
        }

        #expect(try await etcd.delete("\(prefix)a"))
        let delete = try await mirror.apply(from: &iterator) { $0["\(prefix)a"] == nil }
        if !delete.isReset {
            #expect(delete.changes.map(\.kind) == [.delete])
            #expect(delete.changes.map(\.key) == ["\(prefix)a"])
            #expect(delete.revision > putRevision)
            #expect(delete.changes.first?.entry.version == delete.revision)
        }

        // A prefix delete is one transaction: one batch with a delete per key, all at the same revision.
        #expect(try await etcd.delete(prefix: prefix) == 2)
        let prefixDelete = try await mirror.apply(from: &iterator) { $0.isEmpty }
        if !prefixDelete.isReset {
            #expect(prefixDelete.changes.map(\.kind) == [.delete, .delete])
            #expect(Set(prefixDelete.changes.map(\.key)) == ["\(prefix)b", "\(prefix)c"])
            #expect(prefixDelete.changes.allSatisfy { $0.entry.version == prefixDelete.revision })
        }
        #expect(mirror.entries.isEmpty)
    }

    @Test("a change stream started at a compacted revision delivers the listing as a reset batch and continues")
    func compactedStart() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("changes-compacted")
        try await etcd.put("\(prefix)a", "1")
        let revision = try await etcd.put("\(prefix)b", "2")
        try await EtcdWatchTests.compact(etcd, through: revision)

        var iterator = etcd.changes(prefix: prefix, startRevision: 2).makeAsyncIterator()
        var mirror = Mirror()
        let reset = try await mirror.apply(from: &iterator) { _ in true }
        #expect(reset.isReset)
        #expect(reset.changes.map(\.entry.string) == ["1", "2"])
        #expect(reset.revision >= revision)
        try await etcd.put("\(prefix)c", "3")
        _ = try await mirror.apply(from: &iterator) { $0["\(prefix)c"] == "3" }
        #expect(mirror.entries == ["\(prefix)a": "1", "\(prefix)b": "2", "\(prefix)c": "3"])
        try await etcd.delete(prefix: prefix)
    }

    @Test("1,000 puts arrive as changes in order, none lost or repeated")
    func thousandPuts() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("changes-many")
        let count = 1_000
        func key(_ index: Int) -> String { "\(prefix)\(index + 10_000)" }
        var iterator = etcd.changes(prefix: prefix).makeAsyncIterator()
        var mirror = Mirror()
        _ = try await mirror.apply(from: &iterator) { _ in true }
        let writer = Task {
            for index in 0..<count { try await etcd.put(key(index), String(index)) }
        }
        _ = try await mirror.apply(from: &iterator) { $0.count == count }
        try await writer.value
        #expect(mirror.entries == Dictionary(uniqueKeysWithValues: (0..<count).map { (key($0), String($0)) }))
        // Between resets, each key is put once, in the order written, at growing revisions.
        var lastRevision: UInt64 = 0
        var lastIndex = -1
        for batch in mirror.batches.dropFirst() {
            if batch.isReset {
                lastIndex = batch.changes.count - 1
            } else {
                for change in batch.changes {
                    #expect(change.kind == .put)
                    #expect(change.entry.version > lastRevision)
                    #expect(change.key == key(lastIndex + 1))
                    lastIndex += 1
                    lastRevision = change.entry.version
                }
            }
            lastRevision = max(lastRevision, batch.revision)
        }
        #expect(try await etcd.delete(prefix: prefix) == count)
    }

    @Test("a change stream ends when its task is cancelled while waiting for an event")
    func cancellation() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("changes-cancel")
        let (delivered, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            var batches = 0
            for try await _ in etcd.changes(prefix: prefix) {
                batches += 1
                continuation.yield(batches)
            }
            return batches
        }
        // Cancelled once the first batch is in, while the stream waits for events.
        for await _ in delivered { break }
        task.cancel()
        #expect(try await task.value >= 1)
    }
}
