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
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func get(_ key: String) throws(MemcachedError) -> [UInt8]? {
        var valueLength = 0
        var flags: UInt32 = 0
        var value: UnsafeMutablePointer<CChar>?
        let rc = try self.perform(key) { pointer, length, group, groupLength in
            var rc = MEMCACHED_SUCCESS
            value = memcached_get_by_key(self.handle, group, groupLength, pointer, length, &valueLength, &flags, &rc)
            return rc
        }
        defer { free(value) }
        if rc == MEMCACHED_NOTFOUND { return nil }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "get") }
        return copyBytes(UnsafeRawBufferPointer(start: value, count: valueLength))
    }

    /// Reads a value with its flags and compare-and-swap token.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The item, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func getItem(_ key: String) throws(MemcachedError) -> MemcachedItem? {
        try self.getMulti([key]).item(at: 0)
    }

    /// Reads several values in one batched round trip per server involved.
    ///
    /// The result keeps `keys` and holds every value found in one buffer: iterate it (the keys found, in request
    /// order), look items up by key or by position, or take its ``MemcachedItems/dictionary`` for PHP's shape.
    ///
    /// When some servers fail and others answer, the values from the servers that answered are returned (as
    /// PHP's `getMulti` does); the failure is thrown only when no server answered.
    ///
    /// - Parameter keys: The keys, without the pool's key prefix; a key may be repeated.
    /// - Returns: The items found, by request position.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key memcached refuses,
    ///   naming its position (no key is requested then), or when the request failed on every server.
    public func getMulti(_ keys: [String]) throws(MemcachedError) -> MemcachedItems {
        if keys.isEmpty { return MemcachedItems() }
        var batch = try self.request(keys)
        var items = MemcachedItems(requestedKeys: keys)
        try self.fetchEach(keys: keys) { key, value in items.record(key: key, value, batch: &batch) }
        items.finish(batch)
        return items
    }

    /// Reads several values in one batched round trip per server involved, lending each value found to `body`
    /// without copying it: the allocation-free form of ``getMulti(_:)``.
    ///
    /// - Parameters:
    ///   - keys: The keys, without the pool's key prefix.
    ///   - body: Called once per key found, in the order the servers answer, with the key's UTF-8 bytes (without
    ///     the prefix) and the value; neither may be used after `body` returns.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key memcached refuses,
    ///   naming its position (no key is requested then), or when the request failed on every server.
    @inline(__always)
    public func getMulti(
        _ keys: [String],
        each body: (_ key: UnsafeRawBufferPointer, _ value: MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        if keys.isEmpty { return }
        _ = try self.request(keys)
        try self.fetchEach(keys: keys, body)
    }

    /// Checks and lays out the keys, and sends the request for all of them.
    private func request(_ keys: [String]) throws(MemcachedError) -> MemcachedKeyBatch {
        let batch = try MemcachedKeyBatch(keys, rules: self.keyRules)
        let rc = batch.request(self.handle)
        if MemcachedOutcome.mayBeTimeout(rc), MemcachedOutcome(rc, handle: self.handle) == .timedOut {
            memcached_quit(self.handle)
        }
        guard memcached_success(rc) || rc == MEMCACHED_SOME_ERRORS else {
            throw self.failure(rc, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
        return batch
    }

    @inline(__always)
    private func fetchEach(
        keys: [String],
        _ body: (UnsafeRawBufferPointer, MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        let result = UnsafeMutablePointer<memcached_result_st>.allocate(capacity: 1)
        defer { result.deallocate() }
        guard memcached_result_create(self.handle, result) != nil else {
            throw MemcachedError(.failed, "memcached_result_create failed (out of memory)")
        }
        defer { memcached_result_free(result) }
        let key = UnsafeRawPointer(result) + MemoryLayout<memcached_result_st>.offset(of: \.item_key)!
        var lastError: memcached_return_t?
        var found = 0
        while true {
            var rc = MEMCACHED_SUCCESS
            guard memcached_fetch_result(self.handle, result, &rc) != nil else {
                if rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND && memcached_failed(rc) { lastError = rc }
                break
            }
            found += 1
            // The fields of the public `memcached_result_st`, read in place: what `memcached_result_key_value`,
            // `memcached_result_value` and the other accessors return, without six calls through the PLT.
            let value = result.pointee.value
            body(
                UnsafeRawBufferPointer(start: key, count: result.pointee.key_length),
                MemcachedValueView(
                    bytes: UnsafeRawBufferPointer(
                        start: value.string,
                        count: value.string.map { value.end - $0 } ?? 0
                    ),
                    flags: result.pointee.item_flags,
                    cas: result.pointee.item_cas
                )
            )
        }
        if let lastError, MemcachedOutcome(lastError, handle: self.handle) == .timedOut {
            // A server that did not answer in time may answer later: close the sockets so that the next caller
            // does not read that answer.
            memcached_quit(self.handle)
        }
        if found == 0, let lastError {
            throw self.failure(lastError, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
    }
}

/// A copy of bytes as an array: one allocation and a `memcpy`, through `Array`'s specialized initializer from a
/// typed buffer (`init(unsafeUninitializedCapacity:)` went through the generic, unspecialized allocation).
func copyBytes(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count))
}
