// SPDX-License-Identifier: Apache-2.0

/// A source that reads through another one, such as a cache in front of a client.
///
/// A service location (``DiscoveryLocation/service(_:)``) read on such a source is read from the registry it wraps,
/// through the wrapper's ``snapshot(ofService:reading:)`` and ``watch(service:following:)`` (which a cache uses to
/// keep the instances as it keeps keys), so that a cache in front of a registry still serves services.
package protocol WrappingDiscoverySource: DiscoverySource {
    /// The source this one reads through.
    var wrappedSource: any DiscoverySource { get }

    /// Reads the instances of a service through this source.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - read: Reads the snapshot from the wrapped source (in the end, from the registry).
    /// - Returns: The snapshot, as ``DiscoverySource/snapshot(of:)`` gives it.
    /// - Throws: What `read` throws, unless the wrapper can answer without it.
    func snapshot(
        ofService service: String,
        reading read: @escaping @Sendable () async throws -> DiscoverySnapshot
    ) async throws -> DiscoverySnapshot

    /// Follows the instances of a service through this source.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - watch: The wrapped source's watch of the service.
    /// - Returns: The watch, as ``DiscoverySource/watch(_:)`` gives it.
    func watch(service: String, following watch: DiscoveryWatch) -> DiscoveryWatch
}

extension WrappingDiscoverySource {
    /// Reads from the wrapped source, unchanged.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - read: Reads the snapshot from the wrapped source.
    /// - Returns: What `read` returns.
    /// - Throws: What `read` throws.
    package func snapshot(
        ofService service: String,
        reading read: @escaping @Sendable () async throws -> DiscoverySnapshot
    ) async throws -> DiscoverySnapshot {
        try await read()
    }

    /// The wrapped source's watch, unchanged.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - watch: The wrapped source's watch.
    /// - Returns: `watch`.
    package func watch(service: String, following watch: DiscoveryWatch) -> DiscoveryWatch {
        watch
    }
}

extension DiscoverySource {
    /// Reads what a location holds now, as a snapshot of its ``DiscoveryLocation/watchPrefix``.
    ///
    /// This and ``watch(_:)`` are how every consumer reads a ``DiscoveryLocation`` (the dynamic memcached pool, the
    /// container's discovery service, beacon-confd), so that each kind of location works on every source:
    ///
    /// - a key: the key alone (``get(_:)``), or an empty snapshot when it is absent;
    /// - a prefix or a Patroni leader: every entry under the prefix, or under the cluster's `<namespace><scope>/`
    ///   (``list(prefix:)``);
    /// - a service: the instances the source lists as a ``ServiceRegistry`` (``ServiceRegistry/instances(of:)``),
    ///   as entries `/services/<name>/<id>` holding ``ServiceInstance`` JSON, whichever registry answered. A source
    ///   that reads through another one (a `CachingSource`) asks the registry it wraps, through itself (a
    ///   `CachingSource` caches the instances as it caches a prefix).
    ///
    /// ``DiscoveryLocation/endpoints(in:defaultPort:)`` turns the snapshot into an endpoint list.
    ///
    /// - Parameter location: The location.
    /// - Returns: The snapshot.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/unsupportedLocation`` for a service when the source is not
    ///   a service registry; the source's or registry's error when it cannot answer.
    public func snapshot(of location: DiscoveryLocation) async throws -> DiscoverySnapshot {
        if let chain = try self.serviceChain(for: location) {
            let (registry, service) = (chain.registry, chain.service)
            var read: @Sendable () async throws -> DiscoverySnapshot = {
                serviceSnapshot(of: try await registry.instances(of: service), service: service)
            }
            for wrapper in chain.wrappers.reversed() {
                let inner = read
                read = { try await wrapper.snapshot(ofService: service, reading: inner) }
            }
            return try await read()
        }
        if let key = location.key {
            return DiscoverySnapshot(prefix: key, entries: try await self.get(key).map { [$0] } ?? [])
        }
        return try await self.snapshot(prefix: location.watchPrefix)
    }

    /// Follows a location: its current snapshot (as ``snapshot(of:)`` gives it), then a new one after each change.
    ///
    /// A key, a prefix or a Patroni leader is followed with ``watch(prefix:)`` on its
    /// ``DiscoveryLocation/watchPrefix`` (a key's snapshots may also hold longer keys that start with it). A service
    /// is followed with the registry's ``ServiceRegistry/watchInstances(of:)``: Consul's blocking queries on its
    /// catalog, a watch of `/services/<name>/` on etcd, ZooKeeper and ``StaticSource``; each list of instances becomes
    /// a snapshot as in ``snapshot(of:)``.
    ///
    /// - Parameter location: The location.
    /// - Returns: The watch; it ends when the iterating task is cancelled. For a service on a source that is not a
    ///   service registry, its first `next()` throws ``BeaconError`` with code
    ///   ``BeaconError/Code/unsupportedLocation``.
    public func watch(_ location: DiscoveryLocation) -> DiscoveryWatch {
        let found: ServiceChain?
        do {
            found = try self.serviceChain(for: location)
        } catch {
            return DiscoveryWatch { { throw error } }
        }
        guard let chain = found else {
            return self.watch(prefix: location.watchPrefix)
        }
        let service = chain.service
        let instances = chain.registry.watchInstances(of: service)
        var watch = DiscoveryWatch {
            var iterator = instances.makeAsyncIterator()
            return {
                guard let list = try await iterator.next() else { return nil }
                return serviceSnapshot(of: list, service: service)
            }
        }
        for wrapper in chain.wrappers.reversed() {
            watch = wrapper.watch(service: service, following: watch)
        }
        return watch
    }

    /// The registry that serves a service location, and the service's name; `nil` for the other kinds of location.
    ///
    /// - Parameter location: The location.
    /// - Returns: The source itself as a ``ServiceRegistry`` (or the registry it reads through), and the name.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/unsupportedLocation`` when the location is a service and
    ///   neither the source nor any source it reads through is a service registry.
    package func serviceRegistry(
        for location: DiscoveryLocation
    ) throws(BeaconError) -> (registry: any ServiceRegistry, service: String)? {
        try self.serviceChain(for: location).map { ($0.registry, $0.service) }
    }

    /// The registry that serves a service location, the service's name, and the sources read through on the way to
    /// the registry, outermost first; `nil` for the other kinds of location.
    private func serviceChain(for location: DiscoveryLocation) throws(BeaconError) -> ServiceChain? {
        guard let service = location.service else { return nil }
        var source: any DiscoverySource = self
        var wrappers: [any WrappingDiscoverySource] = []
        while true {
            if let registry = source as? any ServiceRegistry {
                return ServiceChain(registry: registry, service: service, wrappers: wrappers)
            }
            guard let wrapper = source as? any WrappingDiscoverySource else { break }
            wrappers.append(wrapper)
            source = wrapper.wrappedSource
        }
        throw BeaconError(
            .unsupportedLocation,
            "the source is not a service registry: \(type(of: source)) cannot list the instances of a service; read "
                + "services from etcd, ZooKeeper, Consul or a StaticSource, or name a key or a prefix instead",
            text: location.description
        )
    }

}

/// A service location resolved: its registry, its name, and the wrappers read through, outermost first.
private struct ServiceChain {
    var registry: any ServiceRegistry
    var service: String
    var wrappers: [any WrappingDiscoverySource]
}

/// The snapshot of a service location that holds these instances.
private func serviceSnapshot(of instances: [ServiceInstance], service: String) -> DiscoverySnapshot {
    let prefix = ServiceInstance.servicePrefix(service)
    return DiscoverySnapshot(
        prefix: prefix,
        entries: instances.map { KeyValue(key: prefix + $0.id, value: $0.encodedValue()) }
    )
}
