// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MemcachedClient {
    /// Reads a value stored as JSON by ``set(_:encoding:expiration:flags:)`` and decodes it.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - type: The type to decode.
    /// - Returns: The decoded value, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), naming the key's server when the operation fails, or with code
    ///   ``MemcachedError/Code/encoding`` when the stored bytes are not JSON for `type`.
    public func get<Value: Decodable>(_ key: String, as type: Value.Type) async throws -> Value? {
        guard let bytes = try await self.get(key) else { return nil }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw MemcachedError(.encoding, "the value is not JSON for \(type)", key: key, underlying: error)
        }
    }

    /// Encodes a value as JSON and stores it.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - value: The value to encode.
    ///   - expiration: How long the value lives; `.zero` for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), naming the key's server when the operation fails, or with code
    ///   ``MemcachedError/Code/encoding`` when the value cannot be encoded.
    public func set<Value: Encodable>(
        _ key: String,
        encoding value: Value,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) async throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(value))
        } catch {
            throw MemcachedError(.encoding, "the value cannot be encoded as JSON", key: key, underlying: error)
        }
        try await self.set(key, value: bytes, expiration: expiration, flags: flags)
    }
}
