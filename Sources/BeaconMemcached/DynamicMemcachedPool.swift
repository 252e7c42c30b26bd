// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
public import Logging
public import ServiceLifecycle

/// A memcached pool that follows a server list in a discovery source and rebuilds itself when the list changes.
///
/// ``run()`` reads the list (by watching the source, or polling it, see ``Refresh``) and calls
/// ``update(servers:)`` with each version. A new ``MemcachedPool`` is built only when the server list really
/// changed (another server, port, weight or order); a value that was merely written again or re-read keeps the
/// current pool. The new pool is swapped in atomically: operations that already hold a connection of the old pool
/// finish on it, and the old pool frees its handles when the last of them ends.
///
/// Every pool the dynamic pool builds runs its `async` operations on the same worker threads, so a rebuild starts no
/// thread: a group of ``MemcachedPool/Configuration/maxConnections`` threads, started with the first pool and stopped
/// when the dynamic pool is closed (when ``run()`` ends), after the operations already queued (an old pool's too)
/// have run. With ``MemcachedPool/Configuration/workerThreads`` set, the pools use that group instead, and the
/// application closes it.
///
/// The list is at a key, under a prefix, or the instances of a registered service (`.service("memcached")`), read and
/// followed through the registry on any registry: etcd, ZooKeeper, Consul or a `StaticSource`.
///
/// ```swift
/// let pool = DynamicMemcachedPool(
///     source: registry,
///     servers: .service("memcached"),
///     configuration: .init(pool: MemcachedPool.Configuration(maxConnections: 16)),
///     logger: logger
/// )
/// // In the application's ServiceGroup, or:
/// async let following: Void = pool.run()
/// try await pool.set("greeting", value: Array("hello".utf8))
/// ```
///
/// The pool is a `Service`: ``run()`` follows the list until graceful shutdown or cancellation, then closes the pool.
public final class DynamicMemcachedPool: MemcachedClient, Service {
    private struct State {
        var pool: MemcachedPool?
        /// The worker threads of every pool built, when the configuration names none; started with the first pool.
        var workers: MemcachedWorkerThreads?
        var generation = 0
        var closed = false
        var running = false
    }

    private let state = Lock(State())
    /// Signalled by ``close()``, which ends ``run()``.
    private let closing = ChangeSignal()
    /// Counts server-list reads (``updateCount``) and wakes ``waitForUpdate(after:)``.
    private let updates = ChangeSignal()
    private let source: any DiscoverySource
    private let location: DiscoveryLocation
    /// Set when the location cannot hold a server list (a Patroni leader): every operation throws it.
    private let unsupported: MemcachedError?
    /// How each pool is built, and how the list is followed.
    public let configuration: Configuration
    private let logger: Logger

    /// Creates a pool that follows a server list; it has no servers until ``run()`` (or ``update(servers:)``)
    /// delivers the first list, and operations before that throw ``MemcachedError/Code/closed``.
    ///
    /// - Parameters:
    ///   - source: Where the server list lives.
    ///   - servers: The key (one comma-separated list) or prefix (one endpoint per key, as endpoint text or
    ///     `ServiceInstance` JSON; see `DiscoveryLocation.endpoints(in:defaultPort:)`) that holds it, or a service
    ///     (`DiscoveryLocation.service(_:)`, one server per registered instance), which `source` must serve as a
    ///     `ServiceRegistry` (itself, or the registry a `CachingSource` wraps): the pool then follows the registry's
    ///     `watchInstances(of:)`, whichever registry it is (etcd, ZooKeeper, Consul). A Patroni leader location names
    ///     one PostgreSQL server, not a server list, and a service on a source that is not a registry cannot be read:
    ///     neither is supported, ``run()`` waits for the end doing nothing and every operation throws
    ///     ``MemcachedError/Code/invalidConfiguration`` saying so.
    ///   - configuration: How each pool is built, and how the list is followed.
    ///   - logger: Where server-set changes (info) and read failures (info) are logged.
    public init(
        source: any DiscoverySource,
        servers: DiscoveryLocation,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.memcached", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.source = source
        self.location = servers
        if servers.patroni != nil {
            self.unsupported = MemcachedError(
                .invalidConfiguration,
                "a memcached server list is read from a key, a prefix or a service; \(servers) names no server list"
            )
        } else {
            do {
                _ = try source.serviceRegistry(for: servers)
                self.unsupported = nil
            } catch {
                self.unsupported = MemcachedError(.invalidConfiguration, "\(error)")
            }
        }
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        // A dynamic pool dropped without close() or the end of run(): its pools release themselves as they go; the
        // worker threads it started stop once the jobs already queued have run.
        self.state.withLock { $0.workers }?.close()
    }

    /// The pool in use now, or `nil` before the first server list.
    public var currentPool: MemcachedPool? { self.state.withLock { $0.pool } }

    /// How many pools were built so far: 1 after the first list, plus 1 for each real change.
    public var generation: Int { self.state.withLock { $0.generation } }

    /// How many server lists were read and compared so far, changed or not.
    public var updateCount: Int { Int(self.updates.generation) }

    // MARK: Following the source

    /// Follows the server list until graceful shutdown, cancellation or ``close()``, then closes the pool.
    ///
    /// Read failures and lists that cannot be parsed are logged and retried after the retry delay; the current
    /// pool stays in use meanwhile. When the source's watch fails, the list is read directly after each retry
    /// delay, so a source that cannot watch is polled at that interval.
    ///
    /// When it ends, the pool is closed as by ``close()``: operations already running finish on their connections,
    /// new ones throw ``MemcachedError/Code/closed``. `run()` may be called once: a second call is a programming
    /// error and stops the process.
    public func run() async {
        let first = self.state.withLock { state in
            defer { state.running = true }
            return !state.running
        }
        precondition(first, "DynamicMemcachedPool.run() may be called only once")
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.follow() }
                group.addTask { await self.closing.wait(after: 0) }
                await group.next()
                group.cancelAll()
            }
        }
        self.close()
    }

    /// Follows the server list until the calling task is cancelled.
    ///
    /// With a location that cannot hold a server list (a Patroni leader, or a service on a source that is not a
    /// registry; see the initializer's `servers`), it logs why and waits for the end, as a service with nothing to do
    /// does.
    private func follow() async {
        if let unsupported = self.unsupported {
            self.logger.info(
                "memcached server list cannot be followed",
                metadata: [MemcachedLogKey.error: "\(unsupported)"]
            )
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return
        }
        while !Task.isCancelled {
            do {
                switch self.configuration.refresh.base {
                case .watch:
                    try await self.followWatch()
                    // The watch ended without an error: the task was cancelled, or the source gave up; read again.
                    try await Task.sleep(for: self.configuration.retryDelay)
                case .poll(let interval):
                    try await self.accept(try await self.read())
                    try await Task.sleep(for: interval)
                }
            } catch is CancellationError {
                break
            } catch {
                self.logger.info(
                    "memcached server list could not be read",
                    metadata: [MemcachedLogKey.error: "\(error)"]
                )
                try? await Task.sleep(for: self.configuration.retryDelay)
                if case .watch = self.configuration.refresh.base, !Task.isCancelled {
                    // The source could not watch: read the list once (through its cache, if it has one) before
                    // watching again, so that a source without a working watch is still followed.
                    try? await self.accept(try await self.read())
                }
            }
        }
    }

    private func followWatch() async throws {
        for try await snapshot in self.source.watch(self.location) {
            try await self.accept(try self.servers(in: snapshot))
        }
    }

    private func read() async throws -> [Endpoint] {
        try self.servers(in: try await self.source.snapshot(of: self.location))
    }

    private func servers(in snapshot: DiscoverySnapshot) throws -> [Endpoint] {
        if let unsupported = self.unsupported { throw unsupported }
        return try self.location.endpoints(in: snapshot, defaultPort: self.configuration.defaultPort)
    }

    private func accept(_ servers: [Endpoint]) async throws {
        if servers.isEmpty {
            self.logger.info(
                "memcached server list is empty; keeping the current pool",
                metadata: [MemcachedLogKey.servers: "\(self.location)"]
            )
            self.noteUpdate()
            return
        }
        try self.update(servers: servers)
    }

    // MARK: Swapping

    /// Compares a server list with the current one and, when it differs, builds a new pool and swaps it in.
    ///
    /// - Parameter servers: The new list, in order.
    /// - Returns: `true` when a new pool was swapped in, `false` when the list was unchanged.
    /// - Throws: ``MemcachedError`` when the pool cannot be built (the current one stays in use).
    @discardableResult
    public func update(servers: [Endpoint]) throws(MemcachedError) -> Bool {
        let unchanged = self.state.withLock { $0.pool?.servers == servers }
        if unchanged {
            self.noteUpdate()
            return false
        }
        guard let configuration = self.generationConfiguration() else {
            // Closed: no pool is built any more.
            self.noteUpdate()
            return false
        }
        let fresh: MemcachedPool
        do {
            fresh = try MemcachedPool(servers: servers, configuration: configuration, logger: self.logger)
        } catch {
            self.noteUpdate()
            throw error
        }
        let (old, swapped) = self.state.withLock { state in
            guard !state.closed, state.pool?.servers != servers else {
                return (fresh as MemcachedPool?, false)
            }
            let old = state.pool
            state.pool = fresh
            state.generation += 1
            return (old, true)
        }
        old?.close()
        // After the swap: whoever sees the new count also sees the new pool.
        self.updates.signal()
        if swapped {
            self.logger.info(
                "memcached server set changed; new pool in use",
                metadata: [
                    MemcachedLogKey.servers: "\(servers.map(\.description).joined(separator: ","))",
                    MemcachedLogKey.previousServers:
                        "\(old?.servers.map(\.description).joined(separator: ",") ?? "")",
                ]
            )
        }
        return swapped
    }

    /// The configuration of the next pool: the configured one, whose pools share the dynamic pool's worker threads
    /// (started here the first time) unless it names a group of its own. `nil` once the dynamic pool is closed.
    private func generationConfiguration() -> MemcachedPool.Configuration? {
        var configuration = self.configuration.pool
        let shared = configuration.workerThreads
        let workers = self.state.withLock { state -> MemcachedWorkerThreads? in
            guard !state.closed else { return nil }
            if let shared { return shared }
            if let workers = state.workers { return workers }
            let workers = MemcachedWorkerThreads(count: configuration.maxConnections)
            state.workers = workers
            return workers
        }
        guard let workers else { return nil }
        configuration.workerThreads = workers
        return configuration
    }

    /// The worker threads the pools run their `async` operations on: the configured group, or the one the dynamic
    /// pool started with its first pool; `nil` before the first pool (or after ``close()`` for the dynamic pool's own).
    package var workerThreads: MemcachedWorkerThreads? {
        self.state.withLock { state in
            guard state.pool != nil || state.workers != nil else { return nil }
            return state.workers ?? self.configuration.pool.workerThreads
        }
    }

    private func noteUpdate() {
        self.updates.signal()
    }

    /// Waits until more than `count` server lists have been read (see ``updateCount``), or the task is cancelled.
    ///
    /// - Parameter count: An ``updateCount`` seen before.
    public func waitForUpdate(after count: Int) async {
        await self.updates.wait(after: UInt64(max(count, 0)))
    }

    /// Closes the pool now and ends ``run()`` if it runs: new operations throw ``MemcachedError/Code/closed``, those
    /// already running finish first, and then the connections are freed and the dynamic pool's worker threads stop.
    /// Synchronous and idempotent; it does not wait.
    public func close() {
        let (pool, workers) = self.state.withLock { state in
            state.closed = true
            defer {
                state.pool = nil
                state.workers = nil
            }
            return (state.pool, state.workers)
        }
        pool?.close()
        // The jobs already queued (operations of this pool or of an older one) run before the threads exit.
        workers?.close()
        self.closing.signal()
    }

    // MARK: MemcachedClient

    private func leaseCurrent() throws(MemcachedError) -> MemcachedPool {
        if let unsupported = self.unsupported { throw unsupported }
        return try self.state.withLock { state throws(MemcachedError) -> MemcachedPool in
            guard let pool = state.pool else {
                throw MemcachedError(.closed, "no memcached servers known yet for \(self.location)")
            }
            // Begun under this lock, so a swap cannot close the pool between the read and the lease.
            try pool.beginLease()
            return pool
        }
    }

    /// Lends a connection of the current pool on the calling thread; see ``MemcachedClient``.
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``MemcachedError`` with code ``MemcachedError/Code/closed`` before the first
    ///   list.
    public func withBlockingConnection<T>(_ body: (MemcachedConnection) throws -> T) throws -> T {
        try self.leaseCurrent().runLeased(body)
    }

    /// Lends a connection of the current pool on one of its threads; see ``MemcachedClient``.
    ///
    /// - Parameter body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``MemcachedError`` with code ``MemcachedError/Code/closed`` before the first
    ///   list.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (MemcachedConnection) throws -> T
    ) async throws -> T {
        try await self.leaseCurrent().runLeasedOnWorker(body)
    }

    /// The server a key is stored on in the current pool; see ``MemcachedClient/server(forKey:)``.
    ///
    /// - Parameter key: The key, without the key prefix.
    /// - Returns: The server.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for a key PHP refuses (empty, or
    ///   more than 250 bytes), whether or not there are servers yet; with code ``MemcachedError/Code/closed`` before
    ///   the first list.
    public func server(forKey key: String) throws(MemcachedError) -> Endpoint {
        let acceptable = MemcachedConnection.withBytes(key) { MemcachedKeyRules.placement.accepts($0) }
        guard acceptable else { throw MemcachedKeyRules.placement.error(for: key) }
        if let unsupported = self.unsupported { throw unsupported }
        guard let pool = self.currentPool else {
            throw MemcachedError(.closed, "no memcached servers known yet for \(self.location)")
        }
        return try pool.server(forKey: key)
    }
}
