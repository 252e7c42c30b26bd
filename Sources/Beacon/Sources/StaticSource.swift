// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// A mutable, in-memory discovery source and service registry.
///
/// Useful for tests, demos, and values an application computes itself. Every write gets a new version
/// (a counter shared by all keys, as etcd's revision), and watches emit a new snapshot after every write
/// under their prefix.
///
/// ```swift
/// let source = StaticSource(["/db/main/endpoint": "127.0.0.1:5432"])
/// source.set("/services/memcached/a", to: "10.0.0.11:11211")
/// let servers = try await source.list(prefix: "/services/memcached/")
/// ```
///
/// As a ``ServiceRegistry`` it stores instances under the ``ServiceInstance`` key convention. The TTL is
/// not needed in one process: an instance stays until its registration is cancelled.
public final class StaticSource: DiscoverySource, ServiceRegistry, Sendable {
    private struct State {
        var entries: [String: KeyValue] = [:]
        var revision: UInt64 = 0
    }

    private let state = Lock(State())
    private let changes = ChangeSignal()

    /// Creates a source holding the given text values.
    ///
    /// - Parameter values: Keys and their text values.
    public init(_ values: [String: String] = [:]) {
        self.set(values)
    }

    /// The number of writes so far (the version the last write got).
    public var revision: UInt64 { self.state.withLock { $0.revision } }

    /// Writes a text value.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The text to store.
    /// - Returns: The stored entry, with its new version.
    @discardableResult
    public func set(_ key: String, to value: String) -> KeyValue {
        self.set(key, bytes: Array(value.utf8))
    }

    /// Writes a value as bytes.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - bytes: The bytes to store.
    /// - Returns: The stored entry, with its new version.
    @discardableResult
    public func set(_ key: String, bytes: [UInt8]) -> KeyValue {
        let entry = self.state.withLock { state in
            state.revision += 1
            let entry = KeyValue(key: key, value: bytes, version: state.revision)
            state.entries[key] = entry
            return entry
        }
        self.changes.signal()
        return entry
    }

    /// Writes several text values at once: watchers see them in one snapshot.
    ///
    /// - Parameter values: Keys and their text values.
    public func set(_ values: [String: String]) {
        guard !values.isEmpty else { return }
        self.state.withLock { state in
            state.revision += 1
            for (key, value) in values {
                state.entries[key] = KeyValue(key: key, string: value, version: state.revision)
            }
        }
        self.changes.signal()
    }

    /// Removes a key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: `true` when the key was present.
    @discardableResult
    public func delete(_ key: String) -> Bool {
        let removed = self.state.withLock { state in
            guard state.entries.removeValue(forKey: key) != nil else { return false }
            state.revision += 1
            return true
        }
        if removed { self.changes.signal() }
        return removed
    }

    /// Removes every key under a prefix.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: How many keys were removed.
    @discardableResult
    public func delete(prefix: String) -> Int {
        let removed = self.state.withLock { state in
            let keys = state.entries.keys.filter { $0.hasPrefix(prefix) }
            for key in keys { state.entries.removeValue(forKey: key) }
            if !keys.isEmpty { state.revision += 1 }
            return keys.count
        }
        if removed > 0 { self.changes.signal() }
        return removed
    }

    /// Reads one key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry, or `nil` when absent.
    public func get(_ key: String) async -> KeyValue? {
        self.state.withLock { $0.entries[key] }
    }

    /// Reads every entry under a prefix.
    ///
    /// - Parameter prefix: A key prefix; empty for everything.
    /// - Returns: The entries sorted by key.
    public func list(prefix: String) async -> [KeyValue] {
        self.currentSnapshot(prefix: prefix).entries
    }

    /// Follows a prefix; a new snapshot is emitted after every write under it.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch.following(prefix: prefix, signal: self.changes) { [self] prefix in
            self.currentSnapshot(prefix: prefix)
        }
    }

    private func currentSnapshot(prefix: String) -> DiscoverySnapshot {
        let entries = self.state.withLock { state in
            state.entries.values.filter { $0.key.hasPrefix(prefix) }
        }
        return DiscoverySnapshot(prefix: prefix, entries: entries)
    }

    /// Lists the instances of a service stored under `/services/<service>/`.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances sorted by identifier.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` for an entry that is not an
    ///   instance.
    public func instances(of service: String) async throws -> [ServiceInstance] {
        try await self.list(prefix: ServiceInstance.servicePrefix(service)).map { entry throws(BeaconError) in
            try ServiceInstance(decoding: entry)
        }
    }

    /// Follows the instances of a service stored under `/services/<service>/`.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watchInstances(of service: String) -> ServiceInstanceWatch {
        .following(self, prefix: ServiceInstance.servicePrefix(service))
    }

    /// Stores an instance until its registration is cancelled.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: Ignored: an in-process registration cannot outlive its process.
    /// - Returns: The registration; cancelling it deletes the instance's key.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidKey`` when the service name or
    ///   identifier cannot be used in a key.
    public func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try instance.validate()
        let key = instance.key()
        self.set(key, bytes: instance.encodedValue())
        return ServiceRegistration(instance: instance) { [self] in
            self.delete(key)
        }
    }
}
