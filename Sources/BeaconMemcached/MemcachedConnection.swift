// SPDX-License-Identifier: Apache-2.0

public import Beacon
import CBeaconMemcached

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// One connection of a ``MemcachedPool`` (a libmemcached handle with a socket per server), lent to a closure.
///
/// You get one from ``MemcachedClient/withBlockingConnection(_:)`` or ``MemcachedClient/withConnection(_:)``. It
/// is yours alone until the closure returns, and it **must not** be stored or used after that: the pool hands the
/// same handle to the next caller. Every method blocks the calling thread for at most the pool's configured timeouts.
/// Every keyed method checks its keys first, and sends nothing for a key memcached would refuse: it throws
/// ``MemcachedError`` with code ``MemcachedError/Code/invalidKey``.
///
/// ```swift
/// let value = try pool.withBlockingConnection { connection in
///     try connection.get("user:42")
/// }
/// ```
public struct MemcachedConnection {
    let handle: UnsafeMutablePointer<memcached_st>
    let servers: MemcachedServerList
    let keyRules: MemcachedKeyRules
    /// The pool's per-server breakers, shared by all its connections.
    let breakers: MemcachedBreakers
    /// ``MemcachedPool/Configuration/removeFailedServers``: whether a skipped server's keys go to another server.
    let movesKeys: Bool

    init(
        handle: UnsafeMutablePointer<memcached_st>,
        servers: MemcachedServerList,
        keyRules: MemcachedKeyRules,
        breakers: MemcachedBreakers,
        movesKeys: Bool
    ) {
        self.handle = handle
        self.servers = servers
        self.keyRules = keyRules
        self.breakers = breakers
        self.movesKeys = movesKeys
    }

    /// The server a key is stored on, as PHP's `Memcached::getServerByKey` picks it.
    ///
    /// With ``MemcachedPool/Configuration/removeFailedServers``, a key whose server this connection found dead maps to
    /// another server until the dead one is retried.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The server, with the weight it was given.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key PHP refuses (empty, or
    ///   more than 250 bytes), as ``MemcachedClient/server(forKey:)`` does.
    public func server(forKey key: String) throws(MemcachedError) -> Endpoint {
        try Self.withBytes(key) { bytes -> Result<Endpoint, MemcachedError> in
            guard MemcachedKeyRules.placement.accepts(bytes) else {
                return .failure(MemcachedKeyRules.placement.error(for: key))
            }
            return self.servers.server(forKey: bytes, handle: self.handle)
        }.get()
    }

    // MARK: Keys and errors

    /// Runs `body` with the key's UTF-8 bytes, checked against the pool's ``MemcachedKeyRules``.
    @inline(__always)
    func withKey<T>(
        _ key: String,
        _ body: (UnsafePointer<CChar>, Int) throws(MemcachedError) -> T
    ) throws(MemcachedError) -> T {
        // `withContiguousStorageIfAvailable` rethrows untyped errors, and only `body`'s `MemcachedError`s can come
        // out of it. (Returning a `Result` instead costs its destruction on every call.)
        do {
            if let result = try key.utf8.withContiguousStorageIfAvailable({ bytes throws(MemcachedError) -> T in
                try self.withCheckedKey(bytes, key: key, body)
            }) {
                return result
            }
            return try Array(key.utf8).withUnsafeBufferPointer { bytes throws(MemcachedError) -> T in
                try self.withCheckedKey(bytes, key: key, body)
            }
        } catch let error as MemcachedError {
            throw error
        } catch {
            throw MemcachedError(.failed, "unexpected error: \(error)", key: key)
        }
    }

    @inline(__always)
    private func withCheckedKey<T>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        key: String,
        _ body: (UnsafePointer<CChar>, Int) throws(MemcachedError) -> T
    ) throws(MemcachedError) -> T {
        guard self.keyRules.accepts(bytes) else { throw self.keyRules.error(for: key) }
        return try body(UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Runs one single-key libmemcached call, checked against the pool's rules, under the key's server's breaker.
    ///
    /// While every breaker is quiet, this is one atomic load before the call and a comparison after it. Otherwise
    /// the key is placed, and an operation on a server whose breaker is open throws at once, or goes to another
    /// server with ``MemcachedPool/Configuration/removeFailedServers``. `call` always gets a group key for
    /// libmemcached's `_by_key` form: the key itself, which places it as the plain form would, or a key of the server
    /// it moves to. After a timeout, the connection's sockets are closed
    /// (`memcached_quit`), so that the next caller does not read the late answer.
    ///
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key the rules refuse, or
    ///   ``MemcachedError/Code/unavailable`` when the key's server is skipped.
    @inline(__always)
    func perform(
        _ key: String,
        _ call: (_ key: UnsafePointer<CChar>, _ length: Int, _ group: UnsafePointer<CChar>, _ groupLength: Int) ->
            memcached_return_t
    ) throws(MemcachedError) -> memcached_return_t {
        try self.withKey(key) { (pointer, length) throws(MemcachedError) -> memcached_return_t in
            if self.breakers.isQuiet {
                let rc = call(pointer, length, pointer, length)
                if _slowPath(MemcachedOutcome.mayBeTimeout(rc)) { self.recordFailure(rc, pointer, length, nil) }
                return rc
            }
            return try self.performGuarded(key, pointer, length, call)
        }
    }

    /// The hot path saw a failure that may be a timeout: finds the key's server and records it.
    private func recordFailure(
        _ rc: memcached_return_t,
        _ pointer: UnsafePointer<CChar>,
        _ length: Int,
        _ position: Int?
    ) {
        let outcome = MemcachedOutcome(rc, handle: self.handle)
        guard outcome == .timedOut else { return }
        let bytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
            count: length
        )
        if let position = position ?? self.servers.position(forKey: bytes, handle: self.handle) {
            self.breakers.record(.timedOut, at: position)
        }
        memcached_quit(self.handle)
    }

    private func performGuarded(
        _ key: String,
        _ pointer: UnsafePointer<CChar>,
        _ length: Int,
        _ call: (UnsafePointer<CChar>, Int, UnsafePointer<CChar>, Int) -> memcached_return_t
    ) throws(MemcachedError) -> memcached_return_t {
        let bytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
            count: length
        )
        guard let position = self.servers.position(forKey: bytes, handle: self.handle) else {
            return call(pointer, length, pointer, length)
        }
        switch self.breakers.admit(position) {
        case .pass, .probe:
            let rc = call(pointer, length, pointer, length)
            let outcome = MemcachedOutcome(rc, handle: self.handle)
            self.breakers.record(outcome, at: position)
            if outcome == .timedOut { memcached_quit(self.handle) }
            return rc
        case .reject(let timeouts, let until):
            if self.movesKeys,
                let group = self.breakers.groupKey(forKey: bytes, awayFrom: position, handle: self.handle)
            {
                return group.withUnsafeBufferPointer { group in
                    let rc = call(pointer, length, group.baseAddress!, group.count)
                    if _slowPath(MemcachedOutcome.mayBeTimeout(rc)) {
                        let target = group.withMemoryRebound(to: UInt8.self) {
                            self.servers.position(forKey: $0, handle: self.handle)
                        }
                        if let target { self.recordFailure(rc, pointer, length, target) }
                    }
                    return rc
                }
            }
            throw self.skipped(key, server: position, timeouts: timeouts, until: until)
        }
    }

    /// The error for a key whose server is skipped by its breaker.
    func skipped(
        _ key: String,
        server position: Int,
        timeouts: Int,
        until: ContinuousClock.Instant
    ) -> MemcachedError {
        let remaining = ContinuousClock.now.duration(to: until)
        return MemcachedError(
            .unavailable,
            "the server timed out \(timeouts) times in a row; it is skipped until "
                + "\(remaining > .zero ? remaining.wholeMilliseconds : 0) ms from now, then retried",
            endpoint: self.servers.servers[position],
            key: key
        )
    }

    /// Runs `body` with the key's UTF-8 bytes. Always inlined: called out of line, each key is retained and
    /// released around the call.
    @inline(__always)
    static func withBytes<T>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if let result = key.utf8.withContiguousStorageIfAvailable({ body($0) }) { return result }
        return Array(key.utf8).withUnsafeBufferPointer { body($0) }
    }

    /// The error for a libmemcached return code, naming the key's server.
    func failure(_ rc: memcached_return_t, key: String?, operation: String) -> MemcachedError {
        let name = String(cString: memcached_strerror(self.handle, rc))
        let detail = memcached_last_error_message(self.handle).map { String(cString: $0) }
        let server = key.flatMap { try? self.server(forKey: $0) }
        let code: MemcachedError.Code
        switch rc {
        case MEMCACHED_TIMEOUT:
            code = .timeout
        case MEMCACHED_CONNECTION_FAILURE, MEMCACHED_HOST_LOOKUP_FAILURE, MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE,
            MEMCACHED_SERVER_MARKED_DEAD, MEMCACHED_SERVER_TEMPORARILY_DISABLED, MEMCACHED_NO_SERVERS,
            MEMCACHED_WRITE_FAILURE, MEMCACHED_READ_FAILURE, MEMCACHED_UNKNOWN_READ_FAILURE, MEMCACHED_ERRNO,
            MEMCACHED_CONNECTION_BIND_FAILURE, MEMCACHED_FAIL_UNIX_SOCKET:
            code = .unavailable
        case MEMCACHED_BAD_KEY_PROVIDED, MEMCACHED_KEY_TOO_BIG:
            code = .invalidKey
        case MEMCACHED_E2BIG:
            code = .valueTooLarge
        default:
            code = .failed
        }
        var message = "\(operation) failed"
        if let detail, !detail.isEmpty { message += ": \(detail)" }
        return MemcachedError(
            code,
            message,
            endpoint: server,
            key: key,
            returnCode: Int(rc.rawValue),
            returnCodeName: name
        )
    }
}

@available(*, unavailable)
extension MemcachedConnection: Sendable {}

/// An expiration as memcached takes it: 0 for never, seconds up to 30 days, an absolute Unix time beyond.
func expirationTime(_ expiration: Duration) -> time_t {
    guard expiration > .zero else { return 0 }
    let (seconds, attoseconds) = expiration.components
    let whole = seconds + (attoseconds > 0 ? 1 : 0)
    if whole <= 30 * 24 * 3600 { return time_t(whole) }
    return time(nil) + time_t(whole)
}
