// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
import CBeaconMemcached
public import Logging

/// A thread-safe pool of memcached connections over a fixed server list.
///
/// Up to ``Configuration/maxConnections`` libmemcached handles are created as needed; each is used by one
/// caller at a time (see ``MemcachedConnection``). The operations of ``MemcachedClient`` are available in two
/// forms: blocking, through ``withBlockingConnection(_:)``, and `async`, run on worker threads: the pool's own
/// (``Configuration/maxConnections`` of them, stopped by ``close()``), or a ``MemcachedWorkerThreads`` group the
/// application shares among pools (``Configuration/workerThreads``).
///
/// ```swift
/// let pool = try MemcachedPool(servers: servers, logger: logger)
/// try await pool.set("greeting", value: Array("hello".utf8), expiration: .seconds(60))
/// let value = try await pool.get("greeting")
/// let fast = try pool.withBlockingConnection { try $0.get("greeting") }
/// pool.close()
/// ```
///
/// ``close()`` lets the operations already started finish, then frees every handle.
public final class MemcachedPool: MemcachedClient {
    /// The servers, in the order they were added.
    public let servers: [Endpoint]
    /// The options the pool was built with.
    public let configuration: Configuration

    private struct State {
        var leases = 0
        var closed = false
        var released = false
    }

    private let state = Lock(State())
    /// The handle `server(forKey:)` asks; it never connects. `nil` once released.
    private let router: Lock<CHandle?>
    private let handles: CPool
    private let serverList: MemcachedServerList
    /// The servers' breakers, shared by every connection: see ``MemcachedBreaker``.
    let breakers: MemcachedBreakers
    /// The keys the connections send; see ``MemcachedError/Code/invalidKey``.
    private let keyRules: MemcachedKeyRules
    /// The threads that run the `async` API.
    private let workers: MemcachedWorkerThreads
    /// Whether the pool started ``workers`` itself, and so stops them when it releases its handles.
    private let ownsWorkers: Bool
    private let logger: Logger
    private let acquireTimeout: Duration
    /// ``acquireTimeout`` as `memcached_pool_fetch` takes it, converted once.
    private let acquireTimespec: timespec

    /// Creates a pool over a server list.
    ///
    /// No connection is opened here: each connection connects on its first use.
    ///
    /// - Parameters:
    ///   - servers: The servers, in the order PHP adds them (it matters for ``MemcachedDistribution/modula``, and
    ///     for ties on the ketama ring). Weights default to 1.
    ///   - configuration: The distribution, timeouts, failure handling and key prefix. Default: PHP's `Memcached`
    ///     with consistent hashing.
    ///   - logger: Where the pool logs: debug level, and a warning when a server is skipped after timeouts (info
    ///     when it answers again). Default: a logger that discards everything.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidConfiguration`` for an empty list, more
    ///   than 100 servers with ``MemcachedDistribution/consistent`` (libmemcached's ring has room for no more, and
    ///   aborts the process beyond), a weight or port out of range, a prefix that is too long, or an option
    ///   libmemcached rejects.
    public init(
        servers: [Endpoint],
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.memcached", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(MemcachedError) {
        let master = try MemcachedHandleFactory.makeMaster(configuration: configuration, servers: servers)
        guard let router = MemcachedHandleFactory.clone(master, configuration: configuration) else {
            memcached_free(master)
            throw MemcachedError(.invalidConfiguration, "memcached_clone failed (out of memory)")
        }
        guard let pool = memcached_pool_create(master, 1, UInt32(configuration.maxConnections)) else {
            memcached_free(router)
            memcached_free(master)
            throw MemcachedError(.invalidConfiguration, "memcached_pool_create failed")
        }
        self.servers = servers
        self.configuration = configuration
        self.router = Lock(CHandle(pointer: router))
        self.handles = CPool(pool: pool)
        self.serverList = MemcachedServerList(servers)
        self.breakers = MemcachedBreakers(
            servers: self.serverList,
            configuration: configuration,
            logger: logger
        )
        self.keyRules = MemcachedKeyRules(
            binaryProtocol: configuration.binaryProtocol,
            keyPrefix: configuration.keyPrefix
        )
        if let shared = configuration.workerThreads {
            self.workers = shared
            self.ownsWorkers = false
        } else {
            self.workers = MemcachedWorkerThreads(count: configuration.maxConnections)
            self.ownsWorkers = true
        }
        self.logger = logger
        self.acquireTimeout = configuration.acquireTimeout
        self.acquireTimespec = timespec(
            tv_sec: Int(configuration.acquireTimeout.components.seconds),
            tv_nsec: Int(configuration.acquireTimeout.components.attoseconds / 1_000_000_000)
        )
        logger.debug(
            "memcached pool built",
            metadata: [
                MemcachedLogKey.servers: "\(servers.map(\.description).joined(separator: ","))",
                MemcachedLogKey.distribution: "\(configuration.distribution)",
                MemcachedLogKey.libketamaCompatible: "\(configuration.libketamaCompatible)",
            ]
        )
    }

    deinit {
        let release = self.state.withLock { state in
            defer { state.released = true }
            return !state.released
        }
        if release { self.releaseHandles() }
    }

    /// The threads the `async` API runs on: the pool's own, or the shared ``Configuration/workerThreads``. A task
    /// that prefers them as its executor runs the pool's `async` operations without a thread hand-off; see
    /// ``MemcachedWorkerThreads``.
    public var workerThreads: MemcachedWorkerThreads { self.workers }

    /// `true` once ``close()`` was called: new operations throw ``MemcachedError/Code/closed``.
    public var isClosed: Bool { self.state.withLock { $0.closed } }

    /// `true` once the pool is closed and every operation that had started finished: the handles are freed.
    package var isReleased: Bool { self.state.withLock { $0.released } }

    /// Refuses new operations, lets those already started (or queued) finish, then frees every handle and stops the
    /// pool's own worker threads (a shared ``Configuration/workerThreads`` group is left running). Calling it again
    /// does nothing. It does not wait.
    public func close() {
        let release = self.state.withLock { state in
            guard !state.closed else { return false }
            state.closed = true
            guard state.leases == 0, !state.released else { return false }
            state.released = true
            return true
        }
        if release { self.releaseHandles() }
    }

    // MARK: MemcachedClient

    /// Lends a connection to a closure on the calling thread; see ``MemcachedClient/withBlockingConnection(_:)``.
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``MemcachedError`` with code ``MemcachedError/Code/poolExhausted`` or
    ///   ``MemcachedError/Code/closed``.
    public func withBlockingConnection<T>(_ body: (MemcachedConnection) throws -> T) throws -> T {
        try self.beginLease()
        return try self.runLeased(body)
    }

    /// Lends a connection to a closure on one of the pool's worker threads; see ``MemcachedClient/withConnection(_:)``.
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``MemcachedError`` with code ``MemcachedError/Code/poolExhausted`` or
    ///   ``MemcachedError/Code/closed`` (also when a shared ``Configuration/workerThreads`` group was closed).
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (MemcachedConnection) throws -> T
    ) async throws -> T {
        try self.beginLease()
        return try await self.runLeasedOnWorker(body)
    }

    /// The server a key is stored on, as PHP's `Memcached::getServerByKey` picks it; see
    /// ``MemcachedClient/server(forKey:)``.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: The server, with the weight it was given.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key PHP refuses (empty, or
    ///   more than 250 bytes), or ``MemcachedError/Code/closed`` when the pool is released.
    public func server(forKey key: String) throws(MemcachedError) -> Endpoint {
        try MemcachedConnection.withBytes(key) { bytes -> Result<Endpoint, MemcachedError> in
            guard MemcachedKeyRules.placement.accepts(bytes) else {
                return .failure(MemcachedKeyRules.placement.error(for: key))
            }
            return self.route(bytes)
        }.get()
    }

    /// The server a key given as raw bytes (not necessarily UTF-8) is stored on; see ``server(forKey:)``.
    ///
    /// - Parameter key: The key's bytes, without the key prefix.
    /// - Returns: The server, with the weight it was given.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key PHP refuses (empty, or
    ///   more than 250 bytes), or ``MemcachedError/Code/closed`` when the pool is released.
    public func server(forKeyBytes key: [UInt8]) throws(MemcachedError) -> Endpoint {
        try key.withUnsafeBufferPointer { bytes -> Result<Endpoint, MemcachedError> in
            guard MemcachedKeyRules.placement.accepts(bytes) else {
                return .failure(MemcachedKeyRules.placement.error(forBytes: key))
            }
            return self.route(bytes)
        }.get()
    }

    private func route(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Endpoint, MemcachedError> {
        self.router.withLock { router in
            guard let router else { return .failure(MemcachedError(.closed, "the pool is closed")) }
            return self.serverList.server(forKey: bytes, handle: router.pointer)
        }
    }

    // MARK: Leases

    /// Counts an operation in; it must be ended by ``runLeased(_:)`` or ``runLeasedOnWorker(_:)``.
    func beginLease() throws(MemcachedError) {
        let open = self.state.withLock { state in
            guard !state.closed else { return false }
            state.leases += 1
            return true
        }
        guard open else { throw MemcachedError(.closed, "the pool is closed") }
    }

    private func endLease() {
        let release = self.state.withLock { state in
            state.leases -= 1
            guard state.closed, state.leases == 0, !state.released else { return false }
            state.released = true
            return true
        }
        if release { self.releaseHandles() }
    }

    /// Runs `body` with a connection on the calling thread, then ends the lease begun by ``beginLease()``.
    func runLeased<T>(_ body: (MemcachedConnection) throws -> T) throws -> T {
        defer { self.endLease() }
        var timeout = self.acquireTimespec
        var rc = MEMCACHED_SUCCESS
        guard let handle = memcached_pool_fetch(self.handles.pool, &timeout, &rc) else {
            throw MemcachedError(
                .poolExhausted,
                "no connection became free within \(self.acquireTimeout)",
                returnCode: Int(rc.rawValue),
                returnCodeName: String(cString: memcached_strerror(nil, rc))
            )
        }
        defer { memcached_pool_release(self.handles.pool, handle) }
        MemcachedHandleFactory.repairClone(handle, configuration: self.configuration)
        return try body(
            MemcachedConnection(
                handle: handle,
                servers: self.serverList,
                keyRules: self.keyRules,
                breakers: self.breakers,
                movesKeys: self.configuration.removeFailedServers
            )
        )
    }

    /// Runs `body` on one of the pool's worker threads, then ends the lease begun by ``beginLease()``.
    ///
    /// The task prefers the worker threads as its executor while `body` runs: a task that already prefers them (see
    /// ``MemcachedWorkerThreads``) stays on its thread, any other moves there and back.
    func runLeasedOnWorker<T: Sendable>(
        _ body: @escaping @Sendable (MemcachedConnection) throws -> T
    ) async throws -> T {
        try await withTaskExecutorPreference(self.workers) {
            try await self.runLeasedOnWorkerThread(body)
        }
    }

    /// Runs `body` with a connection, then ends the lease; `@concurrent`, so it runs on the task's preferred executor,
    /// the worker threads. Jobs the group refused after its ``MemcachedWorkerThreads/close()`` run on the global
    /// executor instead: there it throws rather than block a thread of the cooperative pool.
    @concurrent
    private func runLeasedOnWorkerThread<T: Sendable>(
        _ body: @escaping @Sendable (MemcachedConnection) throws -> T
    ) async throws -> T {
        guard self.workers.isCurrent else {
            self.endLease()
            throw MemcachedError(.closed, "the pool's worker threads are closed")
        }
        return try self.runLeased(body)
    }

    /// Frees the handles and stops the pool's own worker threads; called exactly once, when the pool is closed and
    /// idle (or deinitialized).
    private func releaseHandles() {
        if let master = memcached_pool_destroy(self.handles.pool) {
            memcached_free(master)
        }
        self.router.withLock { router in
            if let handle = router { memcached_free(handle.pointer) }
            router = nil
        }
        if self.ownsWorkers { self.workers.close() }
        self.logger.debug("memcached pool released")
    }
}

/// A libmemcached handle owned by a ``MemcachedPool``.
///
/// `@unchecked Sendable` is safe because the only instance lives inside the pool's `router` `Lock`: every use of
/// the pointer, and its release, happens with that lock held, so one thread at a time uses the handle.
struct CHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<memcached_st>
}

/// A libmemcachedutil pool owned by a ``MemcachedPool``.
///
/// `@unchecked Sendable` is safe because `memcached_pool_fetch` and `memcached_pool_release` lock the C pool's own
/// mutex, and a fetched handle is used only by the thread that fetched it until it releases it. The pool is
/// destroyed once, after the lease count (in the `MemcachedPool`'s `Lock`) shows no operation is using it.
struct CPool: @unchecked Sendable {
    let pool: OpaquePointer
}

/// The metadata keys of the module's log messages.
enum MemcachedLogKey {
    static let servers = "memcached.servers"
    static let distribution = "memcached.distribution"
    static let libketamaCompatible = "memcached.libketama_compatible"
    static let previousServers = "memcached.previous_servers"
    static let error = "memcached.error"
    static let server = "memcached.server"
    static let timeouts = "memcached.timeouts"
    static let skippedFor = "memcached.skipped_for"
}
