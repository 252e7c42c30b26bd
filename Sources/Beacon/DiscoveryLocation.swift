// SPDX-License-Identifier: Apache-2.0

/// Where in a discovery source a consumer finds what it needs: one key, every key under a prefix, the leader of a
/// Patroni cluster, or the instances of a service.
///
/// Every consumer takes a location (a dynamic memcached pool its server list, a PostgreSQL connection factory its
/// parameters), so one configuration value says where to look whatever reads it. ``key``, ``prefix``, ``patroni`` and
/// ``service`` tell the kinds apart. ``DiscoverySource/snapshot(of:)`` reads a location and
/// ``DiscoverySource/watch(_:)`` follows it, on any source; a service is read from the source as a
/// ``ServiceRegistry``, so it does not depend on where the registry keeps its instances (Consul keeps them in its
/// catalog, not under a key prefix).
///
/// A struct rather than an enum so that kinds can be added without breaking exhaustive `switch`es: a consumer checks
/// the accessors it supports and reports the others as unsupported.
///
/// ```swift
/// let cache: DiscoveryLocation = .prefix("/services/memcached/")
/// let database: DiscoveryLocation = .patroniLeader(scope: "billing")
/// let web: DiscoveryLocation = .service("web")
/// print(database.watchPrefix)  // /service/billing/
/// ```
public struct DiscoveryLocation: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case key(String)
        case prefix(String)
        case patroni(PatroniCluster)
        case service(String)
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// One key; what its value holds depends on the consumer (an endpoint list, connection parameters).
    ///
    /// - Parameter key: The full key, for example `/config/memcached` or `/db/main`.
    /// - Returns: The location.
    public static func key(_ key: String) -> DiscoveryLocation { DiscoveryLocation(.key(key)) }

    /// Every key under a prefix; what the entries hold depends on the consumer (one endpoint each, or one connection
    /// field each).
    ///
    /// - Parameter prefix: The key prefix, usually ending in `/`.
    /// - Returns: The location.
    public static func prefix(_ prefix: String) -> DiscoveryLocation { DiscoveryLocation(.prefix(prefix)) }

    /// The current leader of a Patroni cluster: the member named by `<namespace><scope>/leader`, whose
    /// `<namespace><scope>/members/<name>` entry holds its `conn_url`.
    ///
    /// The namespace and scope are joined as Patroni joins them (`/`, namespace, `/`, scope, with repeated slashes
    /// collapsed), so `service`, `/service` and `/service/` name the same keys.
    ///
    /// - Parameters:
    ///   - scope: The cluster's name (Patroni's `scope`).
    ///   - namespace: Patroni's `namespace`. Default: `/service/`, Patroni's default.
    /// - Returns: The location.
    public static func patroniLeader(scope: String, namespace: String = "/service/") -> DiscoveryLocation {
        DiscoveryLocation(.patroni(PatroniCluster(scope: scope, namespace: namespace)))
    }

    /// The registered instances of a service, as a ``ServiceRegistry`` lists them (``ServiceRegistry/instances(of:)``)
    /// and follows them (``ServiceRegistry/watchInstances(of:)``).
    ///
    /// A service names what a consumer needs rather than where a registry keeps it: etcd, ZooKeeper and
    /// ``StaticSource`` keep instances under `/services/<name>/`, Consul in its catalog, and the same location reads
    /// both. It can only be read from a source that is also a ``ServiceRegistry`` (or reads through one, as a cache in
    /// front of it does); other sources refuse it with ``BeaconError/Code/unsupportedLocation``. As an endpoint list,
    /// it holds each instance's endpoint, in identifier order.
    ///
    /// - Parameter name: The service's name, such as `memcached`.
    /// - Returns: The location.
    public static func service(_ name: String) -> DiscoveryLocation { DiscoveryLocation(.service(name)) }

    /// The key, when this location is one key; `nil` otherwise.
    public var key: String? {
        guard case .key(let key) = self.base else { return nil }
        return key
    }

    /// The prefix, when this location is every key under a prefix; `nil` otherwise.
    public var prefix: String? {
        guard case .prefix(let prefix) = self.base else { return nil }
        return prefix
    }

    /// The cluster, when this location is a Patroni leader; `nil` otherwise.
    public var patroni: PatroniCluster? {
        guard case .patroni(let cluster) = self.base else { return nil }
        return cluster
    }

    /// The service's name, when this location is the instances of a service; `nil` otherwise.
    public var service: String? {
        guard case .service(let name) = self.base else { return nil }
        return name
    }

    /// The prefix of the snapshots of this location: the key itself, the prefix, the cluster's `<namespace><scope>/`
    /// (which holds both the leader key and the member entries), or for a service `/services/<name>/`
    /// (``ServiceInstance/servicePrefix(_:prefix:)``).
    ///
    /// For a key, a prefix or a Patroni leader it is also what to watch (``DiscoverySource/watch(prefix:)``); a key's
    /// watch may also report keys that merely start with it, and consumers read the key itself from each snapshot.
    /// A service is not followed through a prefix: ``DiscoverySource/watch(_:)`` follows it through the registry, and
    /// its snapshots hold one entry per instance under this prefix, `/services/<name>/<id>` holding the instance as
    /// ``ServiceInstance`` JSON, whichever registry answered. Only registries that keep their instances in their
    /// key-value store (etcd, ZooKeeper, ``StaticSource``) also have them under this prefix; Consul does not.
    public var watchPrefix: String {
        switch self.base {
        case .key(let key): key
        case .prefix(let prefix): prefix
        case .patroni(let cluster): cluster.path
        case .service(let name): ServiceInstance.servicePrefix(name)
        }
    }

    /// `key <key>`, `prefix <prefix>`, `patroni leader <namespace><scope>/` or `service <name>`.
    public var description: String {
        switch self.base {
        case .key(let key): "key \(key)"
        case .prefix(let prefix): "prefix \(prefix)"
        case .patroni(let cluster): "patroni leader \(cluster.path)"
        case .service(let name): "service \(name)"
        }
    }
}

extension DiscoveryLocation {
    /// The keys a Patroni cluster publishes in its DCS, under `<namespace><scope>/`.
    public struct PatroniCluster: Hashable, Sendable {
        /// The cluster's name (Patroni's `scope`).
        public let scope: String
        /// Patroni's `namespace`, as given.
        public let namespace: String
        /// `<namespace><scope>/`, for example `/service/billing/`: every key of the cluster starts with it.
        public let path: String

        /// Describes a cluster.
        ///
        /// - Parameters:
        ///   - scope: The cluster's name.
        ///   - namespace: Patroni's `namespace`.
        public init(scope: String, namespace: String = "/service/") {
            self.scope = scope
            self.namespace = namespace
            var path = ""
            for character in "/\(namespace)/\(scope)/" where !(character == "/" && path.hasSuffix("/")) {
                path.append(character)
            }
            self.path = path
        }

        /// `<namespace><scope>/leader`: the leader's member name, on a lease that expires unless the leader renews it.
        public var leaderKey: String { self.path + "leader" }

        /// `<namespace><scope>/members/`: one entry per running member.
        public var membersPrefix: String { self.path + "members/" }

        /// The entry of one member: `<namespace><scope>/members/<name>`.
        ///
        /// - Parameter name: The member's name, as the leader key holds it.
        /// - Returns: The key.
        public func memberKey(_ name: String) -> String { self.membersPrefix + name }
    }
}
