// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ZooKeeperClient: ServiceRegistry {
    /// Lists the instances of a service: the nodes below `<servicePrefix>/<service>/`, each holding an instance's JSON.
    ///
    /// An instance's id comes from its JSON, not from its node's name, so sequential registrations
    /// (``Configuration/sequentialRegistrations``) list under the id they were registered with.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, sorted by identifier.
    /// - Throws: ``ZooKeeperError``, or `BeaconError` naming the key of a node that is not an instance.
    public func instances(of service: String) async throws -> [ServiceInstance] {
        let prefix = ServiceInstance.servicePrefix(service, prefix: self.configuration.servicePrefix)
        let instances = try await self.list(prefix: prefix).map { entry throws(BeaconError) in
            try ServiceInstance(decoding: entry)
        }
        return instances.sorted { $0.id < $1.id }
    }

    /// Follows the instances of a service: a watch of `<servicePrefix>/<service>/`.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watchInstances(of service: String) -> ServiceInstanceWatch {
        .following(self, prefix: ServiceInstance.servicePrefix(service, prefix: self.configuration.servicePrefix))
    }

    /// Registers an instance as an ephemeral node, kept until the registration is cancelled or the session ends.
    ///
    /// The node is `<servicePrefix>/<service>/<id>` (missing parents are created as persistent nodes), or, with
    /// ``Configuration/sequentialRegistrations``, `<servicePrefix>/<service>/<id>-` followed by ZooKeeper's sequence
    /// number. Its data is the instance's JSON. It is created before this method returns.
    ///
    /// - ZooKeeper keeps an ephemeral node as long as the client's session: across lost connections and server
    ///   changes, and for ``Configuration/sessionTimeout`` after the process dies or is cut off. That timeout plays
    ///   the part of `ttl`, which is not used.
    /// - Should the session expire all the same, ``run()`` creates the node again on the new session.
    /// - `ServiceRegistration.cancel()` deletes the node at once. When ``run()`` ends, it deletes the nodes of the
    ///   registrations still live and closes the session.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: Not used: the session timeout decides how long the node outlives the process.
    /// - Returns: The live registration.
    /// - Throws: `BeaconError` when the service name or id cannot be used in a key; ``ZooKeeperError`` when the node
    ///   cannot be created (``ZooKeeperError/Code/nodeExists`` when another session holds the id), or with code
    ///   ``ZooKeeperError/Code/closed`` once ``run()`` has ended or the client is closed.
    public func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try instance.validate()
        let sequential = self.configuration.sequentialRegistrations
        let key = instance.key(prefix: self.configuration.servicePrefix)
        let node = EphemeralNode(
            client: self,
            path: sequential ? key + "-" : key,
            data: instance.encodedValue(),
            isSequential: sequential,
            label: "registration of \(instance)"
        )
        try await self.keep(node, operation: "register")
        return ServiceRegistration(instance: instance) { await node.withdraw() }
    }

    /// Registers a group of instances as ephemeral nodes that share one lifetime: created together, re-created
    /// together after a session expiry, and deleted together.
    ///
    /// Every ephemeral node of a client already shares its session, which the client keeps alive with one heartbeat
    /// however many nodes it holds; there is no per-node renewal to share. What the group adds is the lifetime: the
    /// nodes (named as with ``register(_:ttl:)``) are created one after the other before this method returns (should
    /// one fail, those already created are deleted, and the error names its path); should the session expire,
    /// ``run()`` creates them all again; `GroupRegistration.cancel()` deletes them all, and so does the end of
    /// ``run()``.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce; at least one, each service and identifier at most once.
    ///   - ttl: Not used: the session timeout decides how long the nodes outlive the process.
    /// - Returns: The live group registration.
    /// - Throws: `BeaconError` from `GroupRegistration.validate(_:)` naming the instance; ``ZooKeeperError`` naming the
    ///   path of the node that could not be created, or with code ``ZooKeeperError/Code/closed`` once ``run()`` has
    ///   ended or the client is closed.
    public func register(group instances: [ServiceInstance], ttl: Duration) async throws -> GroupRegistration {
        try GroupRegistration.validate(instances)
        let sequential = self.configuration.sequentialRegistrations
        let nodes = instances.map { instance in
            let key = instance.key(prefix: self.configuration.servicePrefix)
            return EphemeralNode(
                client: self,
                path: sequential ? key + "-" : key,
                data: instance.encodedValue(),
                isSequential: sequential,
                label: "registration of \(instance)"
            )
        }
        func closed() -> ZooKeeperError {
            ZooKeeperError(
                .closed,
                "the client no longer accepts ephemeral nodes (run() ended or the client was closed)",
                operation: "register",
                path: nodes[0].requestedPath,
                target: self.session.target
            )
        }
        guard self.lifecycle.isAccepting else { throw closed() }
        var created: [EphemeralNode] = []
        created.reserveCapacity(nodes.count)
        for node in nodes {
            do {
                try await node.create()
            } catch {
                await KeptAliveGroup.release(created)
                throw error
            }
            created.append(node)
        }
        let group = KeptAliveGroup(members: nodes, lifecycle: self.lifecycle)
        guard self.lifecycle.add(group) else {
            // run() ended or close() was called while the nodes were being created.
            await group.release()
            throw closed()
        }
        return GroupRegistration(instances: instances) { await group.withdraw() }
    }
}

extension ZooKeeperClient: EphemeralKeyStore {
    /// Writes a key as an ephemeral node, kept until the returned handle is cancelled or the session ends.
    ///
    /// The same machinery as ``register(_:ttl:)``, for a plain value such as `127.0.0.1:8001` under
    /// `/test/apache-8001`: missing parents are created as persistent nodes, the session timeout plays the part of
    /// `ttl`, ``run()`` creates the node again after a session expiry, and `EphemeralKey.cancel()` deletes it.
    ///
    /// - Parameters:
    ///   - key: The node's path.
    ///   - value: The bytes to store.
    ///   - ttl: Not used: the session timeout decides how long the node outlives the process.
    /// - Returns: The live key.
    /// - Throws: `BeaconError` with code `invalidKey` when the key is empty; ``ZooKeeperError`` when the node cannot be
    ///   created, or with code ``ZooKeeperError/Code/closed`` once ``run()`` has ended or the client is closed.
    public func putEphemeral(_ key: String, value: [UInt8], ttl: Duration) async throws -> EphemeralKey {
        guard !key.isEmpty else {
            throw BeaconError(.invalidKey, "an ephemeral key must not be empty", text: key)
        }
        let node = EphemeralNode(
            client: self,
            path: key,
            data: value,
            isSequential: false,
            label: "ephemeral key \(key)"
        )
        try await self.keep(node, operation: "putEphemeral")
        return EphemeralKey(key: key) { await node.withdraw() }
    }
}

extension ZooKeeperClient {
    /// Creates an ephemeral node and hands it to ``run()`` to keep (it creates the node again after a session expiry).
    private func keep(_ node: EphemeralNode, operation: String) async throws {
        func closed() -> ZooKeeperError {
            ZooKeeperError(
                .closed,
                "the client no longer accepts ephemeral nodes (run() ended or the client was closed)",
                operation: operation,
                path: node.requestedPath,
                target: self.session.target
            )
        }
        guard self.lifecycle.isAccepting else { throw closed() }
        try await node.create()
        guard self.lifecycle.add(node) else {
            // run() ended or close() was called while the node was being created.
            await node.release()
            throw closed()
        }
    }
}
