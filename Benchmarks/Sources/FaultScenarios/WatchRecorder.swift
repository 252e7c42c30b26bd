// SPDX-License-Identifier: Apache-2.0

import Beacon

/// Iterates a watch in a task of its own and records what it delivers: every snapshot with its arrival time,
/// snapshots equal to the one before them (duplicates), and snapshots whose highest version is below the previous
/// one's (a step back in revision: etcd's `mod_revision`, Consul's `ModifyIndex` and ZooKeeper's `mzxid` only grow).
final class WatchRecorder: Sendable {
    private struct State: Sendable {
        var snapshots: [(snapshot: DiscoverySnapshot, at: ContinuousClock.Instant)] = []
        var duplicates = 0
        var regressions = 0
        var error: String?
        var ended = false
    }

    private let state = Locked(State())
    private let task = Locked<Task<Void, Never>?>(nil)

    /// Starts iterating `watch`.
    init(_ watch: DiscoveryWatch) {
        let task = Task { [state = self.state] in
            do {
                for try await snapshot in watch {
                    let now = ContinuousClock.now
                    state.withLock { state in
                        if let previous = state.snapshots.last?.snapshot {
                            if previous == snapshot { state.duplicates += 1 }
                            if Self.revision(of: snapshot) < Self.revision(of: previous) { state.regressions += 1 }
                        }
                        state.snapshots.append((snapshot, now))
                    }
                }
            } catch {
                state.withLock { $0.error = "\(error)" }
            }
            state.withLock { $0.ended = true }
        }
        self.task.withLock { $0 = task }
    }

    /// The highest version in a snapshot: the revision it shows at least.
    static func revision(of snapshot: DiscoverySnapshot) -> UInt64 { snapshot.map(\.version).max() ?? 0 }

    /// The last snapshot delivered.
    var last: DiscoverySnapshot? { self.state.withLock { $0.snapshots.last?.snapshot } }
    /// How many snapshots were delivered.
    var count: Int { self.state.withLock { $0.snapshots.count } }
    /// Snapshots equal to the one just before them.
    var duplicates: Int { self.state.withLock { $0.duplicates } }
    /// Snapshots whose highest version is below the previous snapshot's.
    var regressions: Int { self.state.withLock { $0.regressions } }
    /// What ended the watch with an error, if anything did.
    var error: String? { self.state.withLock { $0.error } }

    /// Waits up to `timeout` for a snapshot that satisfies `predicate`.
    ///
    /// - Returns: When the first such snapshot arrived (not when the wait noticed it), or `nil`.
    func arrival(
        within timeout: Duration,
        where predicate: @Sendable (DiscoverySnapshot) -> Bool
    ) async throws -> ContinuousClock.Instant? {
        var instant: ContinuousClock.Instant?
        _ = try await eventually(within: timeout) {
            instant = self.state.withLock { state in
                state.snapshots.first { predicate($0.snapshot) }?.at
            }
            return instant != nil
        }
        return instant
    }

    /// Entries of `store` that are missing from, or differ in, the last snapshot, plus entries of the last snapshot
    /// that the store does not hold.
    func lost(comparedWith store: [KeyValue]) -> Int {
        let last = self.last.map(Array.init) ?? []
        let snapshot = Dictionary(last.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let stored = Dictionary(store.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let missing = stored.filter { snapshot[$0.key] != $0.value }.count
        let extra = snapshot.keys.filter { stored[$0] == nil }.count
        return missing + extra
    }

    /// Stops iterating.
    func stop() {
        self.task.withLock { $0?.cancel() }
    }
}
