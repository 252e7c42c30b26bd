// SPDX-License-Identifier: Apache-2.0

public import Beacon
public import CoreMetrics
public import Logging
public import ServiceLifecycle

/// A discovery source that answers reads from a short-TTL cache in front of another source.
///
/// `get` and `list` go through two ``TTLCache``s (keys and prefixes), with single-flight loads,
/// stale-if-error and negative caching as configured. `watch` passes through to the wrapped source and also
/// stores every snapshot it delivers, so a prefix that is being watched is always fresh without polling.
///
/// In front of a `ServiceRegistry`, the instances of a service (`DiscoveryLocation.service(_:)`, read with
/// `snapshot(of:)` and followed with `watch(_:)`) are read from the registry and kept in the prefix cache as a prefix
/// is, with the same TTL, stale-if-error and persistence.
///
/// Consumers that find a value to be wrong (a connection to a discovered address is refused) call
/// ``invalidate(key:)`` or ``invalidate(prefix:)``: the next read goes to the backend instead of waiting for
/// the TTL to run out.
///
/// ```swift
/// let etcd: some DiscoverySource = ...
/// let source = CachingSource(etcd, configuration: .init(ttl: .seconds(5)), logger: logger)
/// let endpoint = try await source.require("/db/main/endpoint").endpoint()
/// ```
///
/// The source is a `Service`: ``run()`` performs both caches' refresh-ahead reloads until graceful shutdown.
public final class CachingSource<Base: DiscoverySource>: DiscoverySource, Service {
    /// The wrapped source.
    public let base: Base
    /// The cache of single keys (`get`).
    public let keys: TTLCache<String, KeyValue>
    /// The cache of prefixes (`list`).
    public let prefixes: TTLCache<String, [KeyValue]>

    /// Wraps a source.
    ///
    /// - Parameters:
    ///   - base: The source to cache.
    ///   - name: The name of the caches in metrics and logs (`<name>.keys`, `<name>.prefixes`).
    ///   - configuration: The caches' configuration.
    ///   - logger: Where failure episodes are logged.
    ///   - metricsFactory: The factory for the caches' counters; `nil` uses the global metrics system.
    ///   - persistenceDirectory: A directory in which to keep the last good values (files `<name>.keys` and
    ///     `<name>.prefixes`, see ``CachePersistence``), or `nil` (the default) for none.
    ///   - excludedFromPersistence: Key prefixes whose values are never written to disk, such as
    ///     `["/db/main/password", "/secrets/"]` (a whole key excludes just that key). A cached key that starts with
    ///     one is not persisted, nor is a cached list (a prefix, or the instances of a service) that holds such a
    ///     key or lies under such a prefix: the whole list is left out, so that a restart never serves a list with
    ///     entries missing. Default: nothing is excluded.
    public convenience init(
        _ base: Base,
        name: String = "discovery",
        configuration: TTLCacheConfiguration = TTLCacheConfiguration(),
        logger: Logger = Logger(label: "beacon.cache", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil,
        persistenceDirectory: String? = nil,
        excludedFromPersistence: [String] = []
    ) {
        self.init(
            base: base,
            keys: TTLCache(
                name: "\(name).keys",
                configuration: configuration,
                logger: logger,
                metricsFactory: metricsFactory,
                persistence: persistenceDirectory.map { directory in
                    CachePersistence(directory: directory, name: "\(name).keys") { key, _ in
                        Self.isExcluded(key: key, by: excludedFromPersistence)
                    }
                }
            ),
            prefixes: TTLCache(
                name: "\(name).prefixes",
                configuration: configuration,
                logger: logger,
                metricsFactory: metricsFactory,
                persistence: persistenceDirectory.map { directory in
                    CachePersistence(directory: directory, name: "\(name).prefixes") { prefix, entries in
                        Self.isExcluded(list: prefix, entries: entries, by: excludedFromPersistence)
                    }
                }
            )
        )
    }

    /// Wraps a source with caches you built yourself (for example over a manual clock in tests).
    ///
    /// - Parameters:
    ///   - base: The source to cache.
    ///   - keys: The cache for `get`.
    ///   - prefixes: The cache for `list`.
    public init(base: Base, keys: TTLCache<String, KeyValue>, prefixes: TTLCache<String, [KeyValue]>) {
        self.base = base
        self.keys = keys
        self.prefixes = prefixes
    }

    /// Reads a key through the cache.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry, or `nil` when absent (absence is cached for the negative TTL).
    /// - Throws: The wrapped source's error when nothing young enough can be served stale.
    public func get(_ key: String) async throws -> KeyValue? {
        // The source goes in as an existential, so that this call is specialized whatever `Base` is.
        try await self.keys.value(for: key, with: self.base as any DiscoverySource) { base, key in
            try await base.get(key)
        }
    }

    /// Reads a key through the cache, with its freshness.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry (or `nil`) and whether it is fresh or stale.
    /// - Throws: The wrapped source's error when nothing young enough can be served stale.
    public func lookup(_ key: String) async throws -> CacheLookup<KeyValue> {
        try await self.keys.lookup(for: key, with: self.base as any DiscoverySource) { base, key in
            try await base.get(key)
        }
    }

    /// Lists a prefix through the cache.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The entries sorted by key.
    /// - Throws: The wrapped source's error when nothing young enough can be served stale.
    public func list(prefix: String) async throws -> [KeyValue] {
        try await self.prefixes.value(for: prefix, with: self.base as any DiscoverySource) { base, prefix in
            try await base.list(prefix: prefix)
        } ?? []
    }

    /// Follows a prefix on the wrapped source, storing every snapshot in the caches.
    ///
    /// Each snapshot replaces the cached list of the prefix and the cached entries of its keys; keys that left
    /// the prefix are cached as absent.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The wrapped source's watch, with the caches updated as it is iterated.
    public func watch(prefix: String) -> DiscoveryWatch {
        let base = self.base
        return DiscoveryWatch { [self] in
            var iterator = base.watch(prefix: prefix).makeAsyncIterator()
            var previousKeys: Set<String> = []
            return {
                guard let snapshot = try await iterator.next() else { return nil }
                self.prefixes.insert(snapshot.entries, for: prefix)
                var keys: Set<String> = []
                for entry in snapshot {
                    self.keys.insert(entry, for: entry.key)
                    keys.insert(entry.key)
                }
                for gone in previousKeys.subtracting(keys) { self.keys.insert(nil, for: gone) }
                previousKeys = keys
                return snapshot
            }
        }
    }

    /// Forgets a key and every cached list that contains it; the next reads go to the wrapped source.
    ///
    /// - Parameter key: The full key that turned out to be wrong.
    public func invalidate(key: String) {
        self.keys.invalidate(key)
        self.prefixes.invalidate { key.hasPrefix($0) }
    }

    /// Forgets every key under a prefix and every cached list that overlaps it.
    ///
    /// - Parameter prefix: A key prefix.
    public func invalidate(prefix: String) {
        self.keys.invalidate { $0.hasPrefix(prefix) }
        self.prefixes.invalidate { $0.hasPrefix(prefix) || prefix.hasPrefix($0) }
    }

    /// Waits until every change made to both caches so far is written to their persistence files (see
    /// ``TTLCache/flush()``); returns at once without persistence.
    public func flush() async {
        await self.keys.flush()
        await self.prefixes.flush()
    }

    /// Runs both caches' refresh-ahead work until graceful shutdown or until the calling task is cancelled, then
    /// writes what their persistence has not written yet (see ``TTLCache/run()``).
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.keys.run() }
            group.addTask { await self.prefixes.run() }
        }
    }
}

extension CachingSource: WrappingDiscoverySource {
    /// The wrapped source: a service location (`DiscoveryLocation.service(_:)`) read through the cache is read from it
    /// as a registry.
    package var wrappedSource: any DiscoverySource { self.base }

    /// Reads the instances of a service through the prefix cache, under the cache key `service:<name>`: with the
    /// same TTL, stale-if-error and persistence as a prefix.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - read: Reads the snapshot from the registry.
    /// - Returns: The snapshot.
    /// - Throws: What `read` throws when nothing young enough can be served stale.
    package func snapshot(
        ofService service: String,
        reading read: @escaping @Sendable () async throws -> DiscoverySnapshot
    ) async throws -> DiscoverySnapshot {
        let entries = try await self.prefixes.value(for: Self.cacheKey(service: service)) { _ in
            try await read().entries
        }
        return DiscoverySnapshot(prefix: ServiceInstance.servicePrefix(service), entries: entries ?? [])
    }

    /// Follows the instances of a service, storing every snapshot in the prefix cache (under `service:<name>`).
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - watch: The registry's watch of the service.
    /// - Returns: The watch, with the cache updated as it is iterated.
    package func watch(service: String, following watch: DiscoveryWatch) -> DiscoveryWatch {
        DiscoveryWatch { [self] in
            var iterator = watch.makeAsyncIterator()
            return {
                guard let snapshot = try await iterator.next() else { return nil }
                self.prefixes.insert(snapshot.entries, for: Self.cacheKey(service: service))
                return snapshot
            }
        }
    }

    /// The prefix cache's key for the instances of a service: `service:<name>`, beside the key prefixes (which start
    /// with `/`).
    static func cacheKey(service: String) -> String { "service:" + service }
}
