// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconHTTP

extension ConsulClient: DiscoverySource {
    /// Reads one key.
    ///
    /// - Parameter key: The Beacon key, such as `/db/main` (Consul's `db/main`).
    /// - Returns: The entry (version = `ModifyIndex`), or `nil` when absent.
    /// - Throws: ``ConsulError``.
    public func get(_ key: String) async throws -> KeyValue? {
        try await self.fetch(key).entry
    }

    /// Reads one key, with what the answer says about itself (index, known leader, last contact).
    ///
    /// - Parameter key: The Beacon key.
    /// - Returns: The entry, or `nil` when absent, and the answer's ``QueryMeta``.
    /// - Throws: ``ConsulError``.
    public func read(_ key: String) async throws -> (entry: KeyValue?, meta: QueryMeta) {
        let fetched = try await self.fetch(key)
        return (fetched.entry, QueryMeta(fetched.response, agent: fetched.agent))
    }

    /// Reads one key and keeps the answer, whose headers ``get(_:)`` does not need.
    private func fetch(_ key: String) async throws -> (entry: KeyValue?, response: HTTPResponse, agent: String) {
        let consulKey = try Self.validate(key, operation: "kv get")
        let (response, agent) = try await self.transport.send(
            ConsulRequest(operation: "kv get", subject: key, method: "GET", path: Self.kvPath(consulKey), isRead: true)
        )
        if response.status == 404 { return (nil, response, agent) }
        return (try Self.entry(of: key, consulKey: consulKey, in: response.body, agent: agent), response, agent)
    }

    /// The entry of one key in a KV answer to `GET /v1/kv/<key>`: what ``get(_:)`` decodes from each answer.
    static func entry(
        of key: String,
        consulKey: String,
        in body: [UInt8],
        agent: String
    ) throws(ConsulError) -> KeyValue? {
        let entries = try Self.entries(body, operation: "kv get", subject: key, agent: agent)
        let beaconKey = Self.beaconKey(consulKey)
        return entries.first { $0.key == beaconKey }
    }

    /// Reads every key under a prefix (`?recurse`).
    ///
    /// - Parameter prefix: A Beacon key prefix; the empty prefix (or `/`) lists the whole store.
    /// - Returns: The entries sorted by key, without folder markers (keys ending in `/`).
    /// - Throws: ``ConsulError``.
    public func list(prefix: String) async throws -> [KeyValue] {
        try await self.read(prefix: prefix).entries
    }

    /// Reads every key under a prefix, with what the answer says about itself.
    ///
    /// - Parameters:
    ///   - prefix: A Beacon key prefix.
    ///   - index: For a blocking query, the index to wait beyond (at least 1); `nil` answers at once.
    ///   - wait: For a blocking query, how long the agent may wait for a change.
    /// - Returns: The entries sorted by key, and the answer's ``QueryMeta``.
    /// - Throws: ``ConsulError``.
    func read(
        prefix: String,
        index: UInt64? = nil,
        wait: Duration? = nil
    ) async throws -> (
        entries: [KeyValue], meta: QueryMeta
    ) {
        var request = ConsulRequest(
            operation: "kv list",
            subject: prefix,
            method: "GET",
            path: Self.kvPath(Self.consulKey(prefix)),
            query: [("recurse", nil)],
            isRead: true
        )
        if let index, let wait { request.block(beyond: index, for: wait, margin: self.configuration.requestTimeout) }
        let (response, agent) = try await self.transport.send(request)
        let meta = QueryMeta(response, agent: agent)
        if response.status == 404 { return ([], meta) }
        let entries = try Self.entries(response.body, operation: "kv list", subject: prefix, agent: agent)
        return (entries.sorted { $0.key < $1.key }, meta)
    }

    // MARK: Writing

    /// Writes a value.
    ///
    /// - Parameters:
    ///   - key: The Beacon key.
    ///   - value: The bytes to store (Consul's limit is 512 KiB).
    /// - Throws: ``ConsulError``; code ``ConsulError/Code/badRequest`` for a value over the agent's limit.
    public func put(_ key: String, bytes value: [UInt8]) async throws {
        _ = try await self.write(key, value: value, cas: nil)
    }

    /// Writes a text value.
    ///
    /// - Parameters:
    ///   - key: The Beacon key.
    ///   - value: The text to store as UTF-8.
    /// - Throws: ``ConsulError``.
    public func put(_ key: String, _ value: String) async throws {
        try await self.put(key, bytes: Array(value.utf8))
    }

    /// Writes a value only if the key's version is still the one the caller read (Consul's `?cas=`).
    ///
    /// - Parameters:
    ///   - key: The Beacon key.
    ///   - expectedVersion: The entry's `version` as read (its `ModifyIndex`), or `0` to require that the key does not
    ///     exist.
    ///   - value: The bytes to store.
    /// - Returns: `true` when the write happened; `false` when the key had changed (a conflict).
    /// - Throws: ``ConsulError``.
    public func compareAndSwap(_ key: String, expectedVersion: UInt64, newValue value: [UInt8]) async throws -> Bool {
        try await self.write(key, value: value, cas: expectedVersion)
    }

    private func write(_ key: String, value: [UInt8], cas: UInt64?) async throws -> Bool {
        let operation = cas == nil ? "kv put" : "kv cas"
        let consulKey = try Self.validate(key, operation: operation)
        let (response, agent) = try await self.transport.send(
            ConsulRequest(
                operation: operation,
                subject: key,
                method: "PUT",
                path: Self.kvPath(consulKey),
                query: cas.map { [("cas", String($0))] } ?? [],
                body: value
            )
        )
        return try Self.boolean(response.body, operation: operation, subject: key, agent: agent)
    }

    /// Deletes a key. Deleting a key that does not exist succeeds, as in Consul.
    ///
    /// - Parameter key: The Beacon key.
    /// - Throws: ``ConsulError``.
    public func delete(_ key: String) async throws {
        let consulKey = try Self.validate(key, operation: "kv delete")
        _ = try await self.transport.send(
            ConsulRequest(operation: "kv delete", subject: key, method: "DELETE", path: Self.kvPath(consulKey))
        )
    }

    /// Deletes every key under a prefix (`?recurse`).
    ///
    /// - Parameter prefix: A Beacon key prefix (not empty, not `/`).
    /// - Throws: ``ConsulError``.
    public func delete(prefix: String) async throws {
        let consulPrefix = Self.consulKey(prefix)
        precondition(!consulPrefix.isEmpty, "deleting the empty prefix would delete the whole store")
        _ = try await self.transport.send(
            ConsulRequest(
                operation: "kv delete",
                subject: prefix,
                method: "DELETE",
                path: Self.kvPath(consulPrefix),
                query: [("recurse", nil)]
            )
        )
    }

    /// The path of a Consul key in the KV API.
    static func kvPath(_ consulKey: String) -> String {
        "/v1/kv/" + PercentEncoding.path(consulKey)
    }
}
