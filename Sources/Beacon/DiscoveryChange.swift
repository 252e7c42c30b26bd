// SPDX-License-Identifier: Apache-2.0

/// One change under a followed prefix: a key written, or a key deleted.
///
/// ``DiscoverySource/changes(prefix:)`` delivers these in ``DiscoveryChangeBatch``es, so that a consumer of a large
/// prefix can apply what changed instead of receiving the whole prefix again.
public struct DiscoveryChange: Hashable, Sendable, CustomStringConvertible {
    /// What happened to the key.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case put
            case delete
        }

        private let base: Base

        /// The key was created or its value written; ``DiscoveryChange/entry`` holds the new entry.
        public static let put = Kind(base: .put)
        /// The key was deleted; ``DiscoveryChange/entry`` holds the key and an empty value.
        public static let delete = Kind(base: .delete)

        /// `put` or `delete`.
        public var description: String { self.base == .put ? "put" : "delete" }
    }

    /// Whether the key was written or deleted.
    public var kind: Kind
    /// For a put, the entry as written. For a delete, the key with an empty value; its version is the backend's
    /// revision of the delete where the backend reports one (etcd), otherwise `0`.
    public var entry: KeyValue

    /// The key that changed.
    public var key: String { self.entry.key }

    /// Creates a change.
    ///
    /// - Parameters:
    ///   - kind: Whether the key was written or deleted.
    ///   - entry: The entry written, or the deleted key with an empty value.
    public init(_ kind: Kind, _ entry: KeyValue) {
        self.kind = kind
        self.entry = entry
    }

    /// A put of an entry.
    ///
    /// - Parameter entry: The entry as written.
    /// - Returns: The change.
    public static func put(_ entry: KeyValue) -> DiscoveryChange {
        DiscoveryChange(.put, entry)
    }

    /// A delete of a key.
    ///
    /// - Parameters:
    ///   - key: The deleted key.
    ///   - version: The backend's revision of the delete, or `0` when unknown.
    /// - Returns: The change.
    public static func delete(_ key: String, version: UInt64 = 0) -> DiscoveryChange {
        DiscoveryChange(.delete, KeyValue(key: key, value: [], version: version))
    }

    /// `put key = "value" (version N)` or `delete key`.
    public var description: String {
        self.kind == .put ? "put \(self.entry)" : "delete \(self.entry.key)"
    }
}

/// The changes a source delivered together: one write or transaction, one reload of a file, or the whole prefix.
///
/// The first batch of a subscription is a reset: it holds a put of every entry under the prefix. A source that loses
/// track of the changes (etcd, when the revision to resume from has been compacted) delivers a reset again; a
/// consumer then replaces everything it holds with the batch's entries.
public struct DiscoveryChangeBatch: Hashable, Sendable {
    /// Whether the batch is the whole prefix, replacing everything delivered before: every change is a put, and a key
    /// not in the batch is absent.
    public var isReset: Bool
    /// The changes, in the order the source made them; a key may appear more than once (the last one counts).
    public var changes: [DiscoveryChange]
    /// The backend's revision that the batch brings the consumer to: etcd's revision, a ``FileSource``'s generation;
    /// for sources that have no revision, the largest version among the batch's entries (`0` when none has one).
    public var revision: UInt64

    /// Creates a batch.
    ///
    /// - Parameters:
    ///   - isReset: Whether the batch is the whole prefix.
    ///   - changes: The changes, in order.
    ///   - revision: The backend's revision after the batch.
    public init(isReset: Bool, changes: [DiscoveryChange], revision: UInt64) {
        self.isReset = isReset
        self.changes = changes
        self.revision = revision
    }

    /// A reset batch holding every entry of a snapshot.
    ///
    /// - Parameters:
    ///   - snapshot: The whole prefix.
    ///   - revision: The backend's revision, or `nil` to use the largest version among the entries.
    /// - Returns: The batch.
    public static func reset(_ snapshot: DiscoverySnapshot, revision: UInt64? = nil) -> DiscoveryChangeBatch {
        DiscoveryChangeBatch(
            isReset: true,
            changes: snapshot.map(DiscoveryChange.put),
            revision: revision ?? snapshot.lazy.map(\.version).max() ?? 0
        )
    }
}

extension DiscoverySnapshot {
    /// The changes that turn an older snapshot into this one, in key order: a put for each key that is new or whose
    /// value or version differs, a delete for each key that is gone.
    ///
    /// Both snapshots are sorted, so this is one merge pass: O(entries of both).
    ///
    /// - Parameter older: The snapshot to compare against.
    /// - Returns: The changes; empty when the snapshots hold the same entries.
    public func changes(since older: DiscoverySnapshot) -> [DiscoveryChange] {
        var changes: [DiscoveryChange] = []
        var old = 0
        var new = 0
        while old < older.entries.count || new < self.entries.count {
            if new == self.entries.count
                || (old < older.entries.count && older.entries[old].key < self.entries[new].key)
            {
                changes.append(.delete(older.entries[old].key))
                old += 1
            } else if old == older.entries.count || self.entries[new].key < older.entries[old].key {
                changes.append(.put(self.entries[new]))
                new += 1
            } else {
                if self.entries[new] != older.entries[old] { changes.append(.put(self.entries[new])) }
                old += 1
                new += 1
            }
        }
        return changes
    }
}
