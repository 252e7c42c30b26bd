// SPDX-License-Identifier: Apache-2.0

/// A store that can hold a key only for as long as the process that wrote it keeps it alive.
///
/// ``putEphemeral(_:value:ttl:)`` writes a key and returns an ``EphemeralKey`` that the store keeps alive until it
/// is cancelled; the key disappears at once when it is cancelled, and by itself when the process dies (at the latest
/// when `ttl` has passed without a renewal). This is the plain-key form of registration, as a sidecar uses it to
/// announce `/test/apache-8001 = 127.0.0.1:8001` for a proxy's configuration; ``ServiceRegistry`` is the structured
/// form for ``ServiceInstance``s.
///
/// - etcd (`EtcdClient`): the key is attached to a lease of `ttl`, renewed by the client's `run()`, which must
///   run for the key to stay; ending `run()` revokes the lease.
/// - ZooKeeper (`ZooKeeperClient`): an ephemeral node, which lives as long as the client's session; the session
///   timeout plays the part of `ttl`, and the client's `run()` creates the node again should the session expire.
/// - Consul has no such mode: its KV entries outlive their writer unless tied to a session, and its registration is
///   the service catalogue (``ServiceRegistry``).
public protocol EphemeralKeyStore: Sendable {
    /// Writes a key and keeps it until the returned handle is cancelled or the process dies.
    ///
    /// - Parameters:
    ///   - key: The full key, such as `/test/apache-8001`.
    ///   - value: The bytes to store.
    ///   - ttl: How long the store keeps the key after the process stops renewing it (crashed, stalled,
    ///     partitioned). Stores renew well within this time.
    /// - Returns: The live key; call ``EphemeralKey/cancel()`` to remove it.
    /// - Throws: An error when the key cannot be written.
    func putEphemeral(_ key: String, value: [UInt8], ttl: Duration) async throws -> EphemeralKey
}

extension EphemeralKeyStore {
    /// Writes a text key and keeps it until the returned handle is cancelled or the process dies.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The text to store as UTF-8, such as `127.0.0.1:8001`.
    ///   - ttl: How long the store keeps the key after the process stops renewing it.
    /// - Returns: The live key.
    /// - Throws: An error when the key cannot be written.
    public func putEphemeral(_ key: String, _ value: String, ttl: Duration) async throws -> EphemeralKey {
        try await self.putEphemeral(key, value: Array(value.utf8), ttl: ttl)
    }
}
