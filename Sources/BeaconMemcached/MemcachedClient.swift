// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// What ``MemcachedPool`` and ``DynamicMemcachedPool`` have in common: lending connections, and every memcached
/// operation built on that.
///
/// The synchronous API is ``withBlockingConnection(_:)``: the operations run on the calling thread, each bounded
/// by the configured timeouts; use it on threads of your own (or in code that is fine blocking for that long). The
/// asynchronous API (``withConnection(_:)`` and the operations in the extension, such as ``get(_:)``) runs the
/// same calls on the pool's dedicated threads, so it never blocks Swift's cooperative thread pool.
public protocol MemcachedClient: Sendable {
    /// Lends a connection to a closure on the calling thread, blocking it while waiting for a free connection
    /// (at most ``MemcachedPool/Configuration/acquireTimeout``) and during the operations (bounded by the timeouts).
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws (a ``MemcachedError`` from the connection's methods), or ``MemcachedError`` with code ``MemcachedError/Code/poolExhausted`` or
    ///   ``MemcachedError/Code/closed`` when no connection could be lent.
    func withBlockingConnection<T>(
        _ body: (MemcachedConnection) throws -> T
    ) throws -> T

    /// Lends a connection to a closure that runs on one of the pool's dedicated threads.
    ///
    /// Cancelling the calling task does not interrupt work already queued; it is bounded by the timeouts.
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws (a ``MemcachedError`` from the connection's methods), or ``MemcachedError`` with code ``MemcachedError/Code/poolExhausted`` or
    ///   ``MemcachedError/Code/closed`` when no connection could be lent.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (MemcachedConnection) throws -> T
    ) async throws -> T

    /// The server a key is stored on, as PHP's `Memcached::getServerByKey` picks it from the same server list.
    ///
    /// It is computed from the ring as built, without I/O, so a server marked dead is still named.
    ///
    /// It refuses what `getServerByKey` refuses: an empty key, or one of more than 250 bytes (the key prefix is not
    /// counted: PHP does not hash it either). It places a key with spaces or control bytes, as PHP does, though the
    /// ASCII protocol's operations refuse such a key.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: The server, with the weight it was given.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key PHP refuses, or with code
    ///   ``MemcachedError/Code/closed`` when there is no pool (closed, or a dynamic pool without servers yet).
    func server(forKey key: String) throws(MemcachedError) -> Endpoint
}

extension MemcachedClient {
    /// Reads a value.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: The value's bytes, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func get(_ key: String) async throws -> [UInt8]? {
        try await self.withConnection { connection in try connection.get(key) }
    }

    /// Reads a value with its flags and compare-and-swap token.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: The item, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func getItem(_ key: String) async throws -> MemcachedItem? {
        try await self.withConnection { connection in try connection.getItem(key) }
    }

    /// Reads several values in one batched round trip per server involved.
    ///
    /// - Parameter keys: The keys, without the key prefix; a key may be repeated.
    /// - Returns: The items found, by request position; see ``MemcachedItems`` (its
    ///   ``MemcachedItems/dictionary`` has PHP's shape).
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key memcached refuses,
    ///   naming its position (no key is requested then), or when the request failed on every server.
    public func getMulti(_ keys: [String]) async throws -> MemcachedItems {
        try await self.withConnection { connection in try connection.getMulti(keys) }
    }

    /// Stores a value, whether or not the key exists.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives; `.zero` for as long as the server keeps it.
    ///   - flags: 32 bits stored with the value.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func set(
        _ key: String,
        value: [UInt8],
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) async throws {
        try await self.withConnection { connection in
            try connection.set(key, value: value, expiration: expiration, flags: flags)
        }
    }

    /// Stores a value only when the key does not exist.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored, `false` when the key existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func add(
        _ key: String,
        value: [UInt8],
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) async throws -> Bool {
        try await self.withConnection { connection in
            try connection.add(key, value: value, expiration: expiration, flags: flags)
        }
    }

    /// Stores a value only when the key exists.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - value: The bytes to store.
    ///   - expiration: How long the value lives.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored, `false` when the key was absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func replace(
        _ key: String,
        value: [UInt8],
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) async throws -> Bool {
        try await self.withConnection { connection in
            try connection.replace(key, value: value, expiration: expiration, flags: flags)
        }
    }

    /// Stores a value only when the key has not been written since it was read with ``getItem(_:)``.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - value: The bytes to store.
    ///   - cas: The token of the item read.
    ///   - expiration: How long the value lives.
    ///   - flags: 32 bits stored with the value.
    /// - Returns: `true` when stored, `false` on a conflict.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    public func compareAndSwap(
        _ key: String,
        value: [UInt8],
        cas: UInt64,
        expiration: Duration = .zero,
        flags: UInt32 = 0
    ) async throws -> Bool {
        try await self.withConnection { connection in
            try connection.compareAndSwap(key, value: value, cas: cas, expiration: expiration, flags: flags)
        }
    }

    /// Deletes a key.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: `true` when the key existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await self.withConnection { connection in try connection.delete(key) }
    }

    /// Sets a new expiration on a key.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - expiration: The new lifetime.
    /// - Returns: `true` when the key existed.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    @discardableResult
    public func touch(_ key: String, expiration: Duration) async throws -> Bool {
        try await self.withConnection { connection in
            try connection.touch(key, expiration: expiration)
        }
    }

    /// Adds to a counter.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - delta: How much to add.
    /// - Returns: The new value, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    @discardableResult
    public func increment(_ key: String, by delta: UInt32 = 1) async throws -> UInt64? {
        try await self.withConnection { connection in try connection.increment(key, by: delta) }
    }

    /// Subtracts from a counter; memcached stops at 0.
    ///
    /// - Parameters:
    ///   - key: The key, without the key prefix.
    ///   - delta: How much to subtract.
    /// - Returns: The new value, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the operation fails.
    @discardableResult
    public func decrement(_ key: String, by delta: UInt32 = 1) async throws -> UInt64? {
        try await self.withConnection { connection in try connection.decrement(key, by: delta) }
    }
}
