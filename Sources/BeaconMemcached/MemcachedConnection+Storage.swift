// SPDX-License-Identifier: Apache-2.0

import CBeaconMemcached

extension MemcachedConnection {
    /// Stores a value, whether or not the key exists.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives; `.zero` (the default) for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value and returned by ``getItem(_:)``.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server refuses or cannot be reached.
    public func set(
        _ key: String,
        value: some Collection<UInt8>,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) throws(MemcachedError) {
        let rc = try self.store(key, value: value, expiration: expiration, flags: flags, with: memcached_set_by_key)
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "set") }
    }

    /// Stores a value only when the key does not exist.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives; `.zero` for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored, `false` when the key already existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func add(
        _ key: String,
        value: some Collection<UInt8>,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) throws(MemcachedError) -> Bool {
        let rc = try self.store(key, value: value, expiration: expiration, flags: flags, with: memcached_add_by_key)
        if rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS { return false }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "add") }
        return true
    }

    /// Stores a value only when the key exists.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives; `.zero` for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored, `false` when the key was absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func replace(
        _ key: String,
        value: some Collection<UInt8>,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) throws(MemcachedError) -> Bool {
        let rc = try self.store(key, value: value, expiration: expiration, flags: flags, with: memcached_replace_by_key)
        if rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_NOTFOUND { return false }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "replace") }
        return true
    }

    /// Stores a value only when the key has not been written since it was read with ``getItem(_:)``.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - value: The bytes to store.
    ///   - cas: The ``MemcachedItem/cas`` token of the item read.
    ///   - expiration: How long the value lives; `.zero` for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored; `false` on a conflict (the key was written or deleted since it was read).
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func compareAndSwap(
        _ key: String,
        value: some Collection<UInt8>,
        cas: UInt64,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) throws(MemcachedError) -> Bool {
        let rc = try self.store(key, value: value, expiration: expiration, flags: flags) {
            memcached_cas_by_key($0, $1, $2, $3, $4, $5, $6, $7, $8, cas)
        }
        if rc == MEMCACHED_DATA_EXISTS || rc == MEMCACHED_NOTFOUND || rc == MEMCACHED_NOTSTORED { return false }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "compareAndSwap") }
        return true
    }

    /// Deletes a key.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: `true` when the key existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    @discardableResult
    public func delete(_ key: String) throws(MemcachedError) -> Bool {
        let rc = try self.perform(key) { key, length, group, groupLength in
            memcached_delete_by_key(self.handle, group, groupLength, key, length, 0)
        }
        if rc == MEMCACHED_NOTFOUND { return false }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "delete") }
        return true
    }

    /// Sets a new expiration on a key without reading or writing its value.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - expiration: The new lifetime; `.zero` for as long as the server keeps it.
    /// - Returns: `true` when the key existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    @discardableResult
    public func touch(_ key: String, expiration: Duration) throws(MemcachedError) -> Bool {
        let rc = try self.perform(key) { key, length, group, groupLength in
            memcached_touch_by_key(
                self.handle,
                group,
                groupLength,
                key,
                length,
                expirationTime(expiration)
            )
        }
        if rc == MEMCACHED_NOTFOUND { return false }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "touch") }
        return true
    }

    /// Adds to a counter stored as decimal text.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - delta: How much to add.
    /// - Returns: The new value, or `nil` when the key is absent (it is not created).
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the value is not a number or the server fails.
    @discardableResult
    public func increment(_ key: String, by delta: UInt32 = 1) throws(MemcachedError) -> UInt64? {
        try self.count(key, by: delta, operation: "increment", with: memcached_increment_by_key)
    }

    /// Subtracts from a counter stored as decimal text; memcached stops at 0.
    ///
    /// - Parameters:
    ///   - key: The key, without the pool's key prefix.
    ///   - delta: How much to subtract.
    /// - Returns: The new value, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the value is not a number or the server fails.
    @discardableResult
    public func decrement(_ key: String, by delta: UInt32 = 1) throws(MemcachedError) -> UInt64? {
        try self.count(key, by: delta, operation: "decrement", with: memcached_decrement_by_key)
    }

    /// The shape of libmemcached's counter calls by key (`memcached_increment_by_key`, `memcached_decrement_by_key`):
    /// the handle, the group key, the key, the delta and where the new value goes.
    private typealias CountCall = (
        UnsafeMutablePointer<memcached_st>?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int, UInt64,
        UnsafeMutablePointer<UInt64>?
    ) -> memcached_return_t

    /// Runs one of libmemcached's counter calls for `key`.
    ///
    /// - Returns: The new value, or `nil` when the key is absent.
    private func count(
        _ key: String,
        by delta: UInt32,
        operation: String,
        with call: CountCall
    ) throws(MemcachedError) -> UInt64? {
        var value: UInt64 = 0
        let rc = try self.perform(key) { key, length, group, groupLength in
            call(self.handle, group, groupLength, key, length, UInt64(delta), &value)
        }
        if rc == MEMCACHED_NOTFOUND { return nil }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: operation) }
        return value
    }

    /// The shape of libmemcached's storage calls by key (`memcached_set_by_key` and its siblings): the handle, the
    /// group key, the key, the value, the expiration and the flags.
    private typealias StoreCall = (
        UnsafeMutablePointer<memcached_st>?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int,
        UnsafePointer<CChar>?, Int, time_t, UInt32
    ) -> memcached_return_t

    /// Runs one of libmemcached's storage calls for `key` with the bytes of `value`.
    private func store(
        _ key: String,
        value: some Collection<UInt8>,
        expiration: Duration,
        flags: UInt32,
        with call: StoreCall
    ) throws(MemcachedError) -> memcached_return_t {
        let expiration = expirationTime(expiration)
        return try self.perform(key) { key, keyLength, group, groupLength in
            func send(_ bytes: UnsafeBufferPointer<UInt8>) -> memcached_return_t {
                let pointer = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self)
                return call(self.handle, group, groupLength, key, keyLength, pointer, bytes.count, expiration, flags)
            }
            if let rc = value.withContiguousStorageIfAvailable(send) {
                return rc
            }
            return Array(value).withUnsafeBufferPointer(send)
        }
    }
}
