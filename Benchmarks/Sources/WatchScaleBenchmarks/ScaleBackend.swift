// SPDX-License-Identifier: Apache-2.0

import Beacon
import BenchmarkSupport

/// One backend under test: a source over `prefix`, and how to grow, change and clean up the keys under it.
struct ScaleBackend {
    /// The CSV's stem: `watch-NAME`.
    let name: String
    let source: any DiscoverySource
    let prefix: String
    /// Makes keys `range` under the prefix exist (the smaller sizes' keys exist already).
    let populate: (_ range: Range<Int>) async throws -> Void
    /// Prepares a change outside the figures: the file source's test writes its file here, as a deployment tool
    /// would, so that a change's cost is the source's reload and delivery alone.
    var stage: (_ key: String, _ value: String) throws -> Void = { _, _ in }
    /// Writes a new value to an existing key (for the file source, reloads the file that `stage` wrote).
    let change: (_ key: String, _ value: String) async throws -> Void
    /// Deletes everything under the prefix.
    let cleanup: () async throws -> Void

    /// The key of index `index`: short names (ZooKeeper sends a directory's children in one reply, which must stay
    /// under its 1 MiB `jute.maxbuffer` at 100,000 children).
    func key(_ index: Int) -> String { "\(self.prefix)\(index)" }
}

/// Runs `body` for `range` split over `workers` concurrent tasks.
func concurrently(
    _ range: Range<Int>,
    workers: Int = 32,
    _ body: @escaping @Sendable (Int) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<workers {
            group.addTask {
                var index = range.lowerBound + worker
                while index < range.upperBound {
                    try await body(index)
                    index += workers
                }
            }
        }
        try await group.waitForAll()
    }
}

/// The figures of one size.
struct ScaleRow {
    var size: Int
    var snapshotMilliseconds: Double
    var residentMiB: Double
    var snapshotChangeMilliseconds: Double
    var snapshotChangeCPUMilliseconds: Double
    var resetMilliseconds: Double
    var changeMilliseconds: Double
    var changeCPUMilliseconds: Double

    static let columns = [
        "keys", "snapshot_ms", "rss_mib", "change_via_snapshot_ms", "cpu_per_change_snapshot_ms",
        "changes_reset_ms", "change_via_changes_ms", "cpu_per_change_changes_ms",
    ]

    var values: [Double] {
        [
            Double(self.size), self.snapshotMilliseconds, self.residentMiB, self.snapshotChangeMilliseconds,
            self.snapshotChangeCPUMilliseconds, self.resetMilliseconds, self.changeMilliseconds,
            self.changeCPUMilliseconds,
        ]
    }
}

func milliseconds(_ duration: Duration) -> Double {
    Double(nanoseconds(duration)) / 1e6
}

/// Measures one size: the snapshot watch (first snapshot, memory, changes), then the change stream (reset batch,
/// changes). Each change writes a new value to the middle key and waits until the subscription delivers it. Each
/// subscription lives in a function of its own, so that it has ended before the next one starts.
func measure(_ backend: ScaleBackend, size: Int, changes: Int) async throws -> ScaleRow {
    let snapshots = try await measureSnapshots(backend, size: size, changes: changes)
    let batches = try await measureChanges(backend, size: size, changes: changes)
    return ScaleRow(
        size: size,
        snapshotMilliseconds: snapshots.first,
        residentMiB: snapshots.resident,
        snapshotChangeMilliseconds: snapshots.latency,
        snapshotChangeCPUMilliseconds: snapshots.cpu,
        resetMilliseconds: batches.first,
        changeMilliseconds: batches.latency,
        changeCPUMilliseconds: batches.cpu
    )
}

func measureSnapshots(
    _ backend: ScaleBackend,
    size: Int,
    changes: Int
) async throws -> (first: Double, resident: Double, latency: Double, cpu: Double) {
    let key = backend.key(size / 2)
    var watch = backend.source.watch(prefix: backend.prefix).makeAsyncIterator()
    let start = ContinuousClock.now
    let first = try await watch.next()
    let firstMilliseconds = milliseconds(start.duration(to: .now))
    let resident = residentMemoryMiB()
    precondition(first?.count == size, "\(backend.name): \(first?.count ?? -1) keys in the snapshot, not \(size)")
    var latencies: [Double] = []
    var cpu = 0.0
    for index in 0..<changes {
        let value = "changed-\(index)-\(UInt32.random(in: 0...UInt32.max))"
        try backend.stage(key, value)
        let cpuStart = processCPUMicroseconds()
        let changeStart = ContinuousClock.now
        try await backend.change(key, value)
        while let snapshot = try await watch.next(), snapshot[key: key]?.string != value {}
        latencies.append(milliseconds(changeStart.duration(to: .now)))
        cpu += (processCPUMicroseconds() - cpuStart) / 1_000 / Double(changes)
    }
    return (firstMilliseconds, resident, median(latencies), cpu)
}

func measureChanges(
    _ backend: ScaleBackend,
    size: Int,
    changes: Int
) async throws -> (first: Double, latency: Double, cpu: Double) {
    let key = backend.key(size / 2)
    var stream = backend.source.changes(prefix: backend.prefix).makeAsyncIterator()
    let start = ContinuousClock.now
    let reset = try await stream.next()
    let firstMilliseconds = milliseconds(start.duration(to: .now))
    precondition(reset?.changes.count == size, "\(backend.name): the reset batch misses keys")
    var latencies: [Double] = []
    var cpu = 0.0
    for index in 0..<changes {
        let value = "changed-\(index)-\(UInt32.random(in: 0...UInt32.max))"
        try backend.stage(key, value)
        let cpuStart = processCPUMicroseconds()
        let changeStart = ContinuousClock.now
        try await backend.change(key, value)
        while let batch = try await stream.next(),
            !batch.changes.contains(where: { $0.key == key && $0.entry.string == value })
        {}
        latencies.append(milliseconds(changeStart.duration(to: .now)))
        cpu += (processCPUMicroseconds() - cpuStart) / 1_000 / Double(changes)
    }
    return (firstMilliseconds, median(latencies), cpu)
}
