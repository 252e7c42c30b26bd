// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension EtcdClient: EphemeralKeyStore {
    /// Writes a key under a lease that the client's ``run()`` keeps alive until the returned handle is cancelled.
    ///
    /// The same machinery as ``register(_:ttl:)``, for a plain value such as `127.0.0.1:8001` under
    /// `/test/apache-8001`: the key is attached to a lease of `ttl`, written before this method returns, and renewed
    /// by a child task of ``run()`` every third of the TTL; a lost lease is replaced and the key written again.
    ///
    /// - `EphemeralKey.cancel()` stops the keep-alive and revokes the lease: the key disappears at once.
    /// - When ``run()`` ends (graceful shutdown or cancellation) it revokes the leases still live. If the process
    ///   dies instead, or ``close()`` is called, the key disappears when the TTL runs out.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The bytes to store.
    ///   - ttl: The lease's TTL (whole seconds, at least one).
    /// - Returns: The live key.
    /// - Throws: `BeaconError` with code `invalidKey` when the key is empty; ``EtcdError`` when the first write
    ///   fails, or with code ``EtcdError/Code/closed`` once ``run()`` has ended or the client is closed.
    public func putEphemeral(_ key: String, value: [UInt8], ttl: Duration) async throws -> EphemeralKey {
        guard !key.isEmpty else {
            throw BeaconError(.invalidKey, "an ephemeral key must not be empty", text: key)
        }
        let keeper = try await self.keepOnLease(key, value: value, ttl: ttl, operation: "putEphemeral")
        return EphemeralKey(key: key) { await keeper.withdraw() }
    }
}
