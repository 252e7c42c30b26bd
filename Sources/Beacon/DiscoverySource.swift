// SPDX-License-Identifier: Apache-2.0

/// A place where an application looks up where its backing services are.
///
/// Keys are slash-separated paths such as `/db/main/endpoint`. The etcd client (`BeaconEtcd`)
/// and every in-process source (``StaticSource``, ``EnvironmentSource``, ``FileSource``) conforms, so code
/// written against this protocol runs unchanged on any of them.
///
/// Conforming types must be safe to use from many tasks at once.
public protocol DiscoverySource: Sendable {
    /// Reads one key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry, or `nil` when the key is absent.
    /// - Throws: An error when the source cannot answer (the backend is unreachable, for example).
    func get(_ key: String) async throws -> KeyValue?

    /// Reads every entry whose key starts with a prefix.
    ///
    /// - Parameter prefix: A key prefix, usually ending in `/`; the empty prefix lists everything.
    /// - Returns: The entries sorted by key; empty when nothing matches.
    /// - Throws: An error when the source cannot answer.
    func list(prefix: String) async throws -> [KeyValue]

    /// Follows a prefix: an asynchronous sequence of whole snapshots of it.
    ///
    /// The first element is the current state; each later element is the new state after a change.
    /// Changes that happen faster than the consumer iterates may be coalesced into one snapshot. The
    /// sequence ends (returns `nil`) when the iterating task is cancelled.
    ///
    /// - Parameter prefix: A key prefix, usually ending in `/`.
    /// - Returns: A sequence that starts following the prefix when iteration begins.
    func watch(prefix: String) -> DiscoveryWatch

    /// Follows a prefix as changes: a reset batch with every entry first, then batches of what changed.
    ///
    /// Unlike ``watch(prefix:)``, a later batch holds only the keys that changed, so a consumer of a large prefix
    /// need not compare or copy the whole prefix for each change. The etcd client, whose backend reports changes as
    /// events, delivers them at a cost proportional to the change; ``FileSource`` must re-read and parse its whole
    /// file, then delivers the changed keys. The default implementation compares consecutive snapshots of
    /// ``watch(prefix:)`` (``DiscoveryChanges/diffing(_:)``): correct for every source, but each change still costs
    /// O(prefix); Consul, ZooKeeper, ``StaticSource`` and ``EnvironmentSource`` use it. The sequence ends when the
    /// iterating task is cancelled.
    ///
    /// - Parameter prefix: A key prefix, usually ending in `/`.
    /// - Returns: A sequence that starts following the prefix when iteration begins.
    func changes(prefix: String) -> DiscoveryChanges
}

extension DiscoverySource {
    /// Follows a prefix as changes computed from consecutive snapshots of ``watch(prefix:)``: O(prefix) per change.
    ///
    /// - Parameter prefix: A key prefix, usually ending in `/`.
    /// - Returns: The sequence of change batches, a reset batch first.
    public func changes(prefix: String) -> DiscoveryChanges {
        DiscoveryChanges.diffing(self.watch(prefix: prefix))
    }

    /// Reads a key that must be present.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/notFound`` when the key is absent, or the
    ///   source's own error when it cannot answer.
    public func require(_ key: String) async throws -> KeyValue {
        guard let value = try await self.get(key) else {
            throw BeaconError(.notFound, "the key is absent", key: key)
        }
        return value
    }

    /// Reads a snapshot of a prefix.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The entries under the prefix as a ``DiscoverySnapshot``.
    /// - Throws: The source's error when it cannot answer.
    public func snapshot(prefix: String) async throws -> DiscoverySnapshot {
        DiscoverySnapshot(prefix: prefix, entries: try await self.list(prefix: prefix))
    }
}
