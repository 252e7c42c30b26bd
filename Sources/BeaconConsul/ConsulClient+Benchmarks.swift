// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ConsulClient {
    /// Decodes the body of an answer to `GET /v1/kv/<key>` exactly as ``get(_:)`` does, without any transfer.
    ///
    /// Not API: for the benchmarks, which time a bare libcurl loop that decodes its answers as `get` does, to tell
    /// what the decoding costs from what the rest of the client costs.
    ///
    /// - Parameters:
    ///   - body: The answer's body: a JSON array of KV entries.
    ///   - key: The Beacon key that was read.
    ///   - agent: The agent that answered, for error messages.
    /// - Returns: The key's entry, or `nil` when the answer does not hold it.
    /// - Throws: ``ConsulError`` for an invalid key or an answer that cannot be decoded.
    @_spi(Benchmarks)
    public static func decodeGetAnswer(_ body: [UInt8], key: String, agent: String) throws(ConsulError) -> KeyValue? {
        try Self.entry(of: key, consulKey: Self.validate(key, operation: "kv get"), in: body, agent: agent)
    }
}
