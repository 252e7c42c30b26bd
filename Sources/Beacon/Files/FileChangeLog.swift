// SPDX-License-Identifier: Apache-2.0

/// The changes of a ``FileSource``'s recent generations, so that a change subscriber takes only what changed since
/// the generation it last delivered.
///
/// Bounded: it keeps at most ``maximumGenerations`` generations and at most as many changes as the file has entries
/// (at least ``minimumChanges``); a subscriber that fell further behind gets a reset batch instead.
struct FileChangeLog {
    /// The most generations kept.
    static let maximumGenerations = 64
    /// The changes kept whatever the file's size.
    static let minimumChanges = 1_024

    private var generations: [(generation: UInt64, changes: [DiscoveryChange])] = []
    private var changeCount = 0

    /// Records the changes that made `generation`.
    mutating func record(_ changes: [DiscoveryChange], generation: UInt64, entryCount: Int) {
        self.generations.append((generation, changes))
        self.changeCount += changes.count
        let limit = max(entryCount, Self.minimumChanges)
        while self.generations.count > 1
            && (self.generations.count > Self.maximumGenerations || self.changeCount > limit)
        {
            self.changeCount -= self.generations.removeFirst().changes.count
        }
    }

    /// The changes under `prefix` made after generation `delivered`, in order; `nil` when the log no longer reaches
    /// back that far.
    func changes(after delivered: UInt64, current: UInt64, prefix: String) -> [DiscoveryChange]? {
        guard delivered < current else { return [] }
        guard let first = self.generations.first, first.generation <= delivered + 1 else { return nil }
        var result: [DiscoveryChange] = []
        for (generation, changes) in self.generations.reversed() {
            guard generation > delivered else { break }
            result.append(contentsOf: changes.reversed().lazy.filter { $0.key.hasPrefix(prefix) })
        }
        result.reverse()
        return result
    }
}
