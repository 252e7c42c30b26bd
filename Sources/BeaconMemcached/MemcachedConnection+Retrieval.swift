// SPDX-License-Identifier: Apache-2.0

import CBeaconMemcached

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension MemcachedConnection {
    /// Reads a value.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The value's bytes, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` naming the key's server when the server fails or cannot be reached.
    public func get(_ key: String) throws(MemcachedError) -> [UInt8]? {
        try self.withKey(key) { (pointer, length) throws(MemcachedError) -> [UInt8]? in
            var valueLength = 0
            var flags: UInt32 = 0
            var rc = MEMCACHED_SUCCESS
            let value = memcached_get(self.handle, pointer, length, &valueLength, &flags, &rc)
            defer { free(value) }
            if rc == MEMCACHED_NOTFOUND { return nil }
            guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "get") }
            return copyBytes(value, count: valueLength)
        }
    }

    /// Reads a value with its flags and compare-and-swap token.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The item, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` naming the key's server when the server fails or cannot be reached.
    public func getItem(_ key: String) throws(MemcachedError) -> MemcachedItem? {
        try self.getMulti([key])[key]
    }

    /// Reads several values in one batched round trip per server involved.
    ///
    /// When some servers fail and others answer, the values from the servers that answered are returned (as
    /// PHP's `getMulti` does); the failure is thrown only when no server answered.
    ///
    /// - Parameter keys: The keys, without the pool's key prefix; duplicates are read once.
    /// - Returns: The items found, by key; absent keys are missing from the dictionary.
    /// - Throws: ``MemcachedError`` for an invalid key, or when the request failed on every server.
    public func getMulti(_ keys: [String]) throws(MemcachedError) -> [String: MemcachedItem] {
        if keys.isEmpty { return [:] }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(keys.count * 32)
        var lengths: [Int] = []
        lengths.reserveCapacity(keys.count)
        for key in keys {
            let length = try Self.withBytes(key) { (bytes) -> Result<Int, MemcachedError> in
                do throws(MemcachedError) {
                    try self.check(bytes, key: key)
                    buffer.append(contentsOf: bytes)
                    return .success(bytes.count)
                } catch {
                    return .failure(error)
                }
            }.get()
            lengths.append(length)
        }
        let rc = buffer.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(keys.count)
            var offset = 0
            for length in lengths {
                pointers.append(base + offset)
                offset += length
            }
            return memcached_mget(self.handle, pointers, lengths, keys.count)
        }
        guard memcached_success(rc) || rc == MEMCACHED_SOME_ERRORS else {
            throw self.failure(rc, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
        return try self.fetchAll(keys: keys)
    }

    private func fetchAll(keys: [String]) throws(MemcachedError) -> [String: MemcachedItem] {
        var items: [String: MemcachedItem] = [:]
        items.reserveCapacity(keys.count)
        let result = UnsafeMutablePointer<memcached_result_st>.allocate(capacity: 1)
        defer { result.deallocate() }
        guard memcached_result_create(self.handle, result) != nil else {
            throw MemcachedError(.failed, "memcached_result_create failed (out of memory)")
        }
        defer { memcached_result_free(result) }
        var lastError: memcached_return_t?
        while true {
            var rc = MEMCACHED_SUCCESS
            guard memcached_fetch_result(self.handle, result, &rc) != nil else {
                if rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND && memcached_failed(rc) { lastError = rc }
                break
            }
            let keyBytes = UnsafeRawBufferPointer(
                start: memcached_result_key_value(result),
                count: memcached_result_key_length(result)
            )
            let key = String(decoding: keyBytes, as: UTF8.self)
            items[key] = MemcachedItem(
                value: copyBytes(memcached_result_value(result), count: memcached_result_length(result)),
                flags: memcached_result_flags(result),
                cas: memcached_result_cas(result)
            )
        }
        if items.isEmpty, let lastError {
            throw self.failure(lastError, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
        return items
    }
}

/// A copy of C bytes as an array (one allocation and a `memcpy`).
func copyBytes(_ pointer: UnsafePointer<CChar>?, count: Int) -> [UInt8] {
    guard let pointer, count > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        memcpy(buffer.baseAddress!, pointer, count)
        initialized = count
    }
}
