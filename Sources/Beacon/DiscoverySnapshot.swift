// SPDX-License-Identifier: Apache-2.0

/// Every entry under a prefix at one moment, sorted by key.
///
/// A ``DiscoveryWatch`` delivers whole snapshots rather than individual events, so a consumer never has
/// to apply a diff: each element is the complete current state of the prefix. For large prefixes,
/// ``DiscoverySource/changes(prefix:)`` delivers the changed keys instead.
public struct DiscoverySnapshot: Hashable, Sendable, RandomAccessCollection {
    /// The prefix the snapshot covers.
    public var prefix: String
    /// The entries whose keys start with ``prefix``, sorted by key.
    public private(set) var entries: [KeyValue]

    /// Creates a snapshot; the entries are sorted by key.
    ///
    /// - Parameters:
    ///   - prefix: The prefix the snapshot covers.
    ///   - entries: The entries under the prefix, in any order.
    public init(prefix: String, entries: [KeyValue]) {
        self.prefix = prefix
        self.entries = entries.sorted { $0.key < $1.key }
    }

    /// The position of the first entry.
    public var startIndex: Int { self.entries.startIndex }
    /// The position past the last entry.
    public var endIndex: Int { self.entries.endIndex }

    /// The entry at a position.
    ///
    /// - Parameter position: A valid index.
    public subscript(position: Int) -> KeyValue { self.entries[position] }

    /// The entry with exactly this key, if present.
    ///
    /// - Parameter key: A full key.
    public subscript(key key: String) -> KeyValue? {
        var low = 0
        var high = self.entries.count
        while low < high {
            let middle = (low + high) / 2
            if self.entries[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low < self.entries.count && self.entries[low].key == key ? self.entries[low] : nil
    }
}
