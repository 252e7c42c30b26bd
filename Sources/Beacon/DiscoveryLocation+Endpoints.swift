// SPDX-License-Identifier: Apache-2.0

extension DiscoveryLocation {
    /// The endpoints a snapshot of ``watchPrefix`` holds at this location.
    ///
    /// - A key: its value is a comma-separated endpoint list (`10.0.0.1:11211,10.0.0.2:11211?weight=2`), or one
    ///   ``ServiceInstance`` as JSON. An absent key holds no endpoint.
    /// - A prefix: every entry under it holds one endpoint, as endpoint text or as ``ServiceInstance`` JSON (see
    ///   ``KeyValue/endpoint(defaultPort:)``); the endpoints come in key order.
    /// - A Patroni leader: the leader's endpoint, from its member entry's `conn_url`
    ///   (see ``PatroniCluster/leader(in:)``), or none while the cluster has no leader.
    /// - A service: the endpoint of each instance, in identifier order; the snapshot holds one ``ServiceInstance`` as
    ///   JSON per instance, as ``DiscoverySource/snapshot(of:)`` and ``DiscoverySource/watch(_:)`` give it.
    ///
    /// - Parameters:
    ///   - snapshot: A snapshot of the location (from ``DiscoverySource/watch(_:)`` or
    ///     ``DiscoverySource/snapshot(of:)``); entries outside the location are ignored.
    ///   - defaultPort: The port for endpoint text without one; when `nil`, a port is required.
    /// - Returns: The endpoints, possibly none.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` naming the key and the offending text.
    public func endpoints(in snapshot: DiscoverySnapshot, defaultPort: Int?) throws(BeaconError) -> [Endpoint] {
        if let key = self.key {
            guard let entry = snapshot[key: key] else { return [] }
            if entry.holdsJSONObject { return [try entry.endpoint(defaultPort: defaultPort)] }
            do {
                return try Endpoint.list(parsing: entry.string, defaultPort: defaultPort)
            } catch {
                throw BeaconError(.invalidValue, error.message, key: key, text: entry.string)
            }
        }
        if let prefix = self.prefix {
            var endpoints: [Endpoint] = []
            for entry in snapshot where entry.key.hasPrefix(prefix) {
                endpoints.append(try entry.endpoint(defaultPort: defaultPort))
            }
            return endpoints
        }
        if let cluster = self.patroni {
            return try cluster.leader(in: snapshot).map { [$0.endpoint] } ?? []
        }
        if self.service != nil {
            let prefix = self.watchPrefix
            var endpoints: [Endpoint] = []
            for entry in snapshot where entry.key.hasPrefix(prefix) {
                endpoints.append(try ServiceInstance(decoding: entry).endpoint)
            }
            return endpoints
        }
        return []
    }
}
