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
    /// per key in key order, each `host:port` text or `ServiceInstance` JSON.
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when the list changes.
    ///
    /// - Parameters:
    ///   - keyOrPrefix: A key, or a prefix ending in `/`.
    ///   - defaultPort: The port of endpoints written without one.
    /// - Returns: The endpoints; empty when the key is absent or the prefix empty.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the key and the text of an
    ///   entry that is not an endpoint.
    public func endpoints(_ keyOrPrefix: String, defaultPort: Int? = nil) async throws -> [Endpoint] {
        let location = DiscoveryLocation(keyOrPrefix: keyOrPrefix)
        let entries = try await entries(of: location)
        return try location.endpoints(
            in: DiscoverySnapshot(prefix: keyOrPrefix, entries: entries),
            defaultPort: defaultPort
        )
    }

    /// Lists the registered instances of a service (`/services/<service>/<id>` holding `ServiceInstance` JSON,
    /// as registries write them).
    ///
    /// Read by an expression of a definition, or in a code factory inside `Resolver.recordingInputs`, the service
    /// being built is rebuilt when an instance comes or goes.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, in key order.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the key of an entry that is
    ///   not an instance.
    public func instances(of service: String) async throws -> [ServiceInstance] {
        try await entries(of: .prefix(ServiceInstance.servicePrefix(service))).map { entry throws(BeaconError) in
            try ServiceInstance(decoding: entry)
        }
    }
}

extension DiscoveryLocation {
    /// A key, or a prefix when the text ends in `/`.
    init(keyOrPrefix: String) {
        self = keyOrPrefix.hasSuffix("/") ? .prefix(keyOrPrefix) : .key(keyOrPrefix)
    }

    /// Reads the location forms that YAML and expressions use: `/a/b` is a key, `/a/b/` a prefix, and
    /// `patroni:<namespace>/<scope>` (such as `patroni:/service/beacon`) the leader of a Patroni cluster.
    ///
    /// - Parameter text: The location's text.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidKey` when the text is empty, does not start
    ///   with `/`, or names no Patroni scope.
    public init(parsing text: String) throws(BeaconError) {
        if text.hasPrefix("patroni:") {
            var path = String(text.dropFirst("patroni:".count))
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
                "a location is a key (/a/b), a prefix ending in / (/a/b/) or patroni:<namespace>/<scope>",
                text: text
            )
        }
        self.init(keyOrPrefix: text)
    }
}
