// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension DiscoveryService {
    /// Reads a key's value.
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when the value changes (or the key
    /// appears or disappears).
    ///
    /// - Parameter key: The full key, such as `/db/main/host`.
    /// - Returns: The value as text, or `nil` when the key is absent.
    /// - Throws: The source's error when nothing can be read and nothing was cached.
    public func get(_ key: String) async throws -> String? {
        try await entries(of: .key(key)).first?.string
    }

    /// Reads a key holding one endpoint: `host:port` text or `ServiceInstance` JSON.
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when the value changes.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - defaultPort: The port when the text has none; `nil` to require one.
    /// - Returns: The endpoint.
    /// - Throws: `BeaconError` with code `BeaconError.Code.notFound` naming the key when it is absent, or
    ///   `BeaconError.Code.invalidValue` naming the key and the text when it is not an endpoint.
    public func endpoint(_ key: String, defaultPort: Int? = nil) async throws -> Endpoint {
        guard let entry = try await entries(of: .key(key)).first else {
            throw BeaconError(.notFound, "the key is absent", key: key)
        }
        return try entry.endpoint(defaultPort: defaultPort)
    }

    /// Reads a list of endpoints: from a key, a comma-separated list; from a prefix (ending in `/`), one endpoint
    /// per key in key order, each `host:port` text or `ServiceInstance` JSON; from `service:<name>`, the endpoint of
    /// each registered instance of the service, in identifier order, on any registry (see ``endpoints(at:defaultPort:)``).
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when the list changes.
    ///
    /// - Parameters:
    ///   - location: A key, a prefix ending in `/`, `service:<name>`, or `patroni:<namespace>/<scope>` (the leader).
    ///   - defaultPort: The port of endpoints written without one.
    /// - Returns: The endpoints; empty when the key is absent, the prefix empty or the service has no instance.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the key and the text of an
    ///   entry that is not an endpoint; `BeaconError.Code.invalidKey` for a `service:` without a valid name;
    ///   `BeaconError.Code.unsupportedLocation` for a service when the source is not a service registry.
    public func endpoints(_ location: String, defaultPort: Int? = nil) async throws -> [Endpoint] {
        try await endpoints(at: try DiscoveryLocation(endpointsText: location), defaultPort: defaultPort)
    }

    /// Reads a list of endpoints at a location: a key's comma-separated list, one endpoint per key under a prefix,
    /// the instances of a service, or a Patroni cluster's leader.
    ///
    /// A service (`DiscoveryLocation.service(_:)`) is read from the source as a `ServiceRegistry` (its instances are
    /// in Consul's catalog, or under `/services/<name>/` in etcd and ZooKeeper) and followed with its
    /// `watchInstances(of:)`. Read by an expression of a definition, or in a code factory inside
    /// `Resolver.recordingInputs`, the service being built is rebuilt when the list changes.
    ///
    /// - Parameters:
    ///   - location: The location.
    ///   - defaultPort: The port of endpoints written without one.
    /// - Returns: The endpoints; empty when the location holds none.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the key and the text of an
    ///   entry that is not an endpoint, or `BeaconError.Code.unsupportedLocation` for a service when the source is
    ///   not a service registry.
    public func endpoints(at location: DiscoveryLocation, defaultPort: Int? = nil) async throws -> [Endpoint] {
        let entries = try await entries(of: location)
        return try location.endpoints(
            in: DiscoverySnapshot(prefix: location.watchPrefix, entries: entries),
            defaultPort: defaultPort
        )
    }

    /// Lists the registered instances of a service, as the source lists them as a `ServiceRegistry`: Consul's
    /// passing instances, or the `ServiceInstance` JSON under `/services/<service>/` in etcd, ZooKeeper and a
    /// `StaticSource`.
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when an instance comes or goes.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, in identifier order.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the key of an entry that is
    ///   not an instance, or `BeaconError.Code.unsupportedLocation` when the source is not a service registry (a
    ///   file, the environment).
    public func instances(of service: String) async throws -> [ServiceInstance] {
        try await entries(of: .service(service)).map { entry throws(BeaconError) in
            try ServiceInstance(decoding: entry)
        }
    }
}

extension DiscoveryLocation {
    /// A key, or a prefix when the text ends in `/`.
    init(keyOrPrefix: String) {
        self = keyOrPrefix.hasSuffix("/") ? .prefix(keyOrPrefix) : .key(keyOrPrefix)
    }

    /// The location of `endpoints(...)`: `service:<name>` and `patroni:<namespace>/<scope>` as in
    /// ``init(parsing:)``, anything else a key or a prefix (as before, without requiring a leading `/`).
    init(endpointsText text: String) throws(BeaconError) {
        if text.hasPrefix(Self.servicePrefix) || text.hasPrefix(Self.patroniPrefix) {
            try self.init(parsing: text)
        } else {
            self.init(keyOrPrefix: text)
        }
    }

    private static let servicePrefix = "service:"
    private static let patroniPrefix = "patroni:"

    /// Reads the location forms that YAML and expressions use: `/a/b` is a key, `/a/b/` a prefix,
    /// `patroni:<namespace>/<scope>` (such as `patroni:/service/beacon`) the leader of a Patroni cluster, and
    /// `service:<name>` (such as `service:memcached`) the registered instances of a service, read from the source as a
    /// service registry.
    ///
    /// - Parameter text: The location's text.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidKey` when the text is empty, does not start
    ///   with `/`, names no Patroni scope, or names a service that is empty or holds `/`.
    public init(parsing text: String) throws(BeaconError) {
        if text.hasPrefix(Self.servicePrefix) {
            let name = String(text.dropFirst(Self.servicePrefix.count))
            guard !name.isEmpty, !name.contains("/") else {
                throw BeaconError(
                    .invalidKey,
                    "a service location is service:<name>, such as service:memcached, with a name that holds no '/'",
                    text: text
                )
            }
            self = .service(name)
            return
        }
        if text.hasPrefix(Self.patroniPrefix) {
            var path = String(text.dropFirst(Self.patroniPrefix.count))
            while path.hasSuffix("/") { path.removeLast() }
            guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex
            else {
                throw BeaconError(
                    .invalidKey,
                    "a Patroni location is patroni:<namespace>/<scope>, such as patroni:/service/beacon",
                    text: text
                )
            }
            let scope = String(path[path.index(after: slash)...])
            let namespace = String(path[...slash])
            self = .patroniLeader(scope: scope, namespace: namespace)
            return
        }
        guard text.hasPrefix("/") else {
            throw BeaconError(
                .invalidKey,
                "a location is a key (/a/b), a prefix ending in / (/a/b/), service:<name> or "
                    + "patroni:<namespace>/<scope>",
                text: text
            )
        }
        self.init(keyOrPrefix: text)
    }
}
