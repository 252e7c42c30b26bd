// SPDX-License-Identifier: Apache-2.0

/// A source that reads through another one, such as a cache in front of a client.
///
/// A service location (``DiscoveryLocation/service(_:)``) read on such a source is read from the registry it wraps,
/// so that a cache in front of a registry still serves services.
package protocol WrappingDiscoverySource: DiscoverySource {
    /// The source this one reads through.
    var wrappedSource: any DiscoverySource { get }
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
    ///   that reads through another one (a `CachingSource`) asks the registry it wraps.
    ///
    /// ``DiscoveryLocation/endpoints(in:defaultPort:)`` turns the snapshot into an endpoint list.
    ///
    /// - Parameter location: The location.
    /// - Returns: The snapshot.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/unsupportedLocation`` for a service when the source is not
    ///   a service registry; the source's or registry's error when it cannot answer.
    public func snapshot(of location: DiscoveryLocation) async throws -> DiscoverySnapshot {
        if let (registry, service) = try self.serviceRegistry(for: location) {
            return Self.snapshot(of: try await registry.instances(of: service), service: service)
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
        let registry: (registry: any ServiceRegistry, service: String)?
        do {
            registry = try self.serviceRegistry(for: location)
        } catch {
            return DiscoveryWatch { { throw error } }
        }
        guard let (registry, service) = registry else {
            return self.watch(prefix: location.watchPrefix)
        }
        let instances = registry.watchInstances(of: service)
        return DiscoveryWatch {
            var iterator = instances.makeAsyncIterator()
            return {
                guard let list = try await iterator.next() else { return nil }
                return Self.snapshot(of: list, service: service)
            }
        }
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
        guard let service = location.service else { return nil }
        var source: any DiscoverySource = self
        while true {
            if let registry = source as? any ServiceRegistry {
                return (registry, service)
            }
            guard let wrapper = source as? any WrappingDiscoverySource else { break }
            source = wrapper.wrappedSource
        }
        throw BeaconError(
            .unsupportedLocation,
            "the source is not a service registry: \(type(of: source)) cannot list the instances of a service; read "
                + "services from etcd, ZooKeeper, Consul or a StaticSource, or name a key or a prefix instead",
            text: location.description
        )
    }

    /// The snapshot of a service location that holds these instances.
    private static func snapshot(of instances: [ServiceInstance], service: String) -> DiscoverySnapshot {
        let prefix = ServiceInstance.servicePrefix(service)
        return DiscoverySnapshot(
            prefix: prefix,
            entries: instances.map { KeyValue(key: prefix + $0.id, value: $0.encodedValue()) }
        )
    }
}
