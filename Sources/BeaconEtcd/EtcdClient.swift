// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconHTTP
public import Logging

/// A client of etcd's v3 API (through its JSON gateway, over libcurl), usable as a discovery source and a
/// service registry.
///
/// ```swift
/// let etcd = try EtcdClient(configuration: .init(endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]),
///                           logger: logger)
/// defer { etcd.close() }
/// try await etcd.put("/db/main/endpoint", "10.0.0.5:5432")
/// let endpoint = try await etcd.require("/db/main/endpoint").endpoint()
/// ```
///
/// Requests go to one endpoint at a time; on a connection failure the client moves to the next one and
/// retries, for single requests and for watches (which resume from the last revision they saw, so no event is
/// lost or repeated). With ``Configuration/credentials``, the client authenticates, sends the token with
/// every request, and authenticates again once when etcd rejects it as expired. Entries' versions are etcd's
/// `mod_revision`.
///
/// All I/O runs on one I/O thread (libcurl's multi interface): the client's own, which `init` starts and ``close()``
/// stops, or an `HTTPIOThread` shared with other clients (``Configuration/ioThread``). No call blocks the Swift
/// concurrency pool. A client that is never closed stops its own thread when it is released.
///
/// The client is a `Service`: ``run()`` keeps the leases of its registrations and ephemeral keys alive and, when it
/// ends (graceful shutdown or cancellation), revokes them and closes the client. Reads, writes and watches work
/// without it; ``register(_:ttl:)`` and ``putEphemeral(_:value:ttl:)`` need it. A client that is not run is released with ``close()``, which aborts transfers and
/// stops the thread.
public final class EtcdClient: DiscoverySource, ServiceRegistry, Sendable {
    /// The configuration the client was created with.
    public let configuration: Configuration
    let transport: EtcdTransport
    let logger: Logger
    /// Whether ``run()`` started, and the registrations it keeps alive.
    let lifecycle = KeepAliveLifecycle()

    /// Creates a client. No connection is made until the first request.
    ///
    /// - Parameters:
    ///   - configuration: Endpoints, credentials, TLS and timeouts.
    ///   - logger: Where endpoint changes, re-authentication and watch restarts are logged (debug and info).
    /// - Throws: ``EtcdError`` with code ``EtcdError/Code/invalidConfiguration`` when no endpoint is given or
    ///   an endpoint is not an `http://` or `https://` URL, or has user information, a query or a fragment (shown
    ///   masked in the error).
    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "beacon.etcd", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(EtcdError) {
        self.configuration = configuration
        self.logger = logger
        self.transport = try EtcdTransport(configuration: configuration, logger: logger)
    }

    /// Closes the client now: aborts every transfer in progress, stops its private I/O thread (or takes the client off
    /// its shared ``Configuration/ioThread``, which keeps running), and ends ``run()`` if it runs.
    ///
    /// Pending requests and watches throw ``EtcdError`` with code ``EtcdError/Code/closed``, and so do later calls.
    /// The keep-alives of registrations stop without revoking their leases, so their keys disappear when the TTL runs
    /// out; to withdraw them at once, end ``run()`` instead (it revokes them, then closes the client). Synchronous and
    /// idempotent; it waits only for the I/O thread's current turn (normally well under a millisecond).
    public func close() {
        for keeper in self.lifecycle.finish() { keeper.requestStop() }
        self.transport.close()
    }

    /// The client's I/O thread as a task executor, for code that calls etcd in a tight loop.
    ///
    /// Code run with this preference runs on the thread that waits for the client's answers, so an answer resumes
    /// it at once instead of handing it to another thread, which on a busy machine saves a few tens of
    /// microseconds per request (Documentation/Etcd.md has the figures):
    ///
    /// ```swift
    /// let endpoints = try await withTaskExecutorPreference(etcd.taskExecutor) {
    ///     var endpoints: [Endpoint] = []
    ///     for key in keys {
    ///         if let entry = try await etcd.get(key) { endpoints.append(try entry.endpoint()) }
    ///     }
    ///     return endpoints
    /// }
    /// ```
    ///
    /// While such code runs, none of the client's transfers progress (watches and lease keep-alives included), nor
    /// those of the other clients sharing its ``Configuration/ioThread``: keep it short, and never block in it. Once
    /// the thread has exited (after ``close()``, or after `HTTPIOThread.shutdown()` for a shared thread), code that
    /// prefers this executor runs on the global concurrent executor.
    public var taskExecutor: any TaskExecutor { self.transport.http.taskExecutor }

    /// The endpoint requests go to now.
    public var currentEndpoint: String { self.transport.currentEndpoint }

    // MARK: Reading

    /// Reads one key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry (version = `mod_revision`), or `nil` when absent.
    /// - Throws: ``EtcdError``.
    public func get(_ key: String) async throws -> KeyValue? {
        let response = try await self.transport.call(
            "range",
            path: "/v3/kv/range",
            WireRangeRequest(key: WireBytes(key)),
            as: WireRangeResponse.self
        )
        return response.kvs?.first.map(Self.keyValue)
    }

    /// Reads every key under a prefix.
    ///
    /// - Parameter prefix: A key prefix; the empty prefix lists the whole keyspace.
    /// - Returns: The entries sorted by key.
    /// - Throws: ``EtcdError``.
    public func list(prefix: String) async throws -> [KeyValue] {
        try await self.listWithRevision(prefix: prefix).entries
    }

    /// Lists a prefix and returns the store revision the answer reflects (where a watch continues from).
    func listWithRevision(prefix: String) async throws -> (entries: [KeyValue], revision: Int64) {
        let key = WireBytes(prefix.isEmpty ? [0] : Array(prefix.utf8))
        let response = try await self.transport.call(
            "range",
            path: "/v3/kv/range",
            WireRangeRequest(key: key, range_end: key.prefixRangeEnd),
            as: WireRangeResponse.self
        )
        let entries = (response.kvs ?? []).map(Self.keyValue).sorted { $0.key < $1.key }
        return (entries, response.header?.revision?.value ?? 0)
    }

    static func keyValue(_ wire: WireKeyValue) -> KeyValue {
        let parts = wire.keyValue
        return KeyValue(key: parts.key, value: parts.value, version: UInt64(max(parts.modRevision, 0)))
    }

    // MARK: Writing

    /// Writes a value.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The bytes to store.
    ///   - lease: A lease to attach the key to: the key is deleted when the lease ends.
    /// - Returns: The store revision of the write (the entry's new version).
    /// - Throws: ``EtcdError``; code ``EtcdError/Code/leaseNotFound`` when the lease has ended.
    @discardableResult
    public func put(_ key: String, bytes value: [UInt8], lease: EtcdLease? = nil) async throws -> UInt64 {
        try await self.put(key, bytes: value, lease: lease, ignoringCancellation: false)
    }

    /// Writes a value; with `ignoringCancellation`, the request goes on if the calling task is cancelled.
    @discardableResult
    func put(
        _ key: String,
        bytes value: [UInt8],
        lease: EtcdLease?,
        ignoringCancellation: Bool
    ) async throws -> UInt64 {
        let response = try await self.transport.call(
            "put",
            path: "/v3/kv/put",
            WirePutRequest(key: WireBytes(key), value: WireBytes(value), lease: lease.map { WireInt64($0.id) }),
            as: WirePutResponse.self,
            ignoringCancellation: ignoringCancellation
        )
        return UInt64(max(response.header?.revision?.value ?? 0, 0))
    }

    /// Writes a text value.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The text to store as UTF-8.
    ///   - lease: A lease to attach the key to.
    /// - Returns: The store revision of the write.
    /// - Throws: ``EtcdError``.
    @discardableResult
    public func put(_ key: String, _ value: String, lease: EtcdLease? = nil) async throws -> UInt64 {
        try await self.put(key, bytes: Array(value.utf8), lease: lease)
    }

    /// Deletes a key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: `true` when the key existed.
    /// - Throws: ``EtcdError``.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await self.deleteRange(WireDeleteRequest(key: WireBytes(key))) > 0
    }

    /// Deletes every key under a prefix.
    ///
    /// - Parameter prefix: A key prefix (not empty).
    /// - Returns: How many keys were deleted.
    /// - Throws: ``EtcdError``.
    @discardableResult
    public func delete(prefix: String) async throws -> Int {
        precondition(!prefix.isEmpty, "deleting the empty prefix would delete the whole keyspace")
        let key = WireBytes(prefix)
        return try await self.deleteRange(WireDeleteRequest(key: key, range_end: key.prefixRangeEnd))
    }

    private func deleteRange(_ request: WireDeleteRequest) async throws -> Int {
        let response = try await self.transport.call(
            "deleterange",
            path: "/v3/kv/deleterange",
            request,
            as: WireDeleteResponse.self
        )
        return Int(response.deleted?.value ?? 0)
    }

    /// Writes a value only if the key's version is still the one the caller read (compare-and-swap).
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - expectedVersion: The `version` of the entry as read (its `mod_revision`), or `0` to require that the
    ///     key does not exist.
    ///   - value: The bytes to store.
    ///   - lease: A lease to attach the key to.
    /// - Returns: `true` when the write happened; `false` when the key had changed (a conflict).
    /// - Throws: ``EtcdError``.
    public func compareAndSwap(
        _ key: String,
        expectedVersion: UInt64,
        newValue value: [UInt8],
        lease: EtcdLease? = nil
    ) async throws -> Bool {
        let wireKey = WireBytes(key)
        // Version 0 means "absent": etcd reports a create_revision of 0 for a key that does not exist.
        let compare =
            expectedVersion == 0
            ? WireCompare(key: wireKey, target: "CREATE", result: "EQUAL", create_revision: WireInt64(0))
            : WireCompare(key: wireKey, target: "MOD", result: "EQUAL", mod_revision: WireInt64(Int64(expectedVersion)))
        let request = WireTxnRequest(
            compare: [compare],
            success: [
                WireRequestOp(
                    request_put: WirePutRequest(
                        key: wireKey,
                        value: WireBytes(value),
                        lease: lease.map { WireInt64($0.id) }
                    )
                )
            ],
            failure: []
        )
        let response = try await self.transport.call("txn", path: "/v3/kv/txn", request, as: WireTxnResponse.self)
        return response.succeeded ?? false
    }
}
