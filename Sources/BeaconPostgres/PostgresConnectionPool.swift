// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CoreMetrics
public import Logging
public import ServiceLifecycle
import Synchronization

/// A bounded pool of PostgreSQL connections made by a ``PostgresConnectionFactory``.
///
/// ``withConnection(_:)`` lends a connection to a closure. An idle connection is checked before reuse (without a round
/// trip, plus `SELECT 1` after ``Configuration/validationInterval``); one that broke, for example because its server
/// was stopped, is discarded and replaced through the factory, which rediscovers the server. So a failover is absorbed
/// by the pool: the next `withConnection` after the move runs on the new server.
///
/// When the factory's ``PostgresConnectionFactory/run()`` sees the location change (a new Patroni leader), the pool
/// closes its idle connections made before the change, and connections in use are closed when they come back, so the
/// next request goes to the new location even though the old server still answers (a demoted primary that came back as
/// a replica).
///
/// ```swift
/// let pool = PostgresConnectionPool(factory: factory, logger: logger)
/// let count = try await pool.withConnection { connection in
///     try await connection.query("SELECT count(*) FROM users")[0].decode(Int.self, column: 0)
/// }
/// pool.close()
/// ```
///
/// The pool is a `Service`: in an application's `ServiceGroup`, ``run()`` holds the pool open until graceful shutdown,
/// then closes it and waits for the connections in use to come back, so none is left open. Outside a group, call
/// ``close()`` when done.
public final class PostgresConnectionPool: Sendable, Service {
    /// The factory new connections come from.
    public let factory: PostgresConnectionFactory
    /// The pool's limits.
    public let configuration: Configuration
    private let logger: Logger
    private let state: Lock<PoolState>
    /// Whether ``run()`` was called.
    private let running = Atomic<Bool>(false)
    /// Signalled by ``close()``, which ends ``run()``.
    private let closing = ChangeSignal()

    /// Creates an empty pool; connections are opened on demand.
    ///
    /// - Parameters:
    ///   - factory: Where new connections come from.
    ///   - configuration: The pool's limits.
    ///   - logger: Where discarded connections are logged (debug level).
    public init(
        factory: PostgresConnectionFactory,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.factory = factory
        self.configuration = configuration
        self.logger = logger
        self.state = Lock(PoolState(maxConnections: configuration.maxConnections))
    }

    deinit {
        self.close()
    }

    /// The number of idle connections.
    public var idleCount: Int { self.state.withLock { $0.idle.count } }

    /// Lends a connection to a closure, waiting for one if all ``Configuration/maxConnections`` are in use.
    ///
    /// The closure **must not** keep the connection: it goes back to the pool when the closure returns. A connection
    /// that broke during the closure, or was left inside a transaction, is closed instead of being reused. Its queries
    /// wait at most ``Configuration/queryTimeout``; one that times out closes its connection (see
    /// ``PostgresConnection/query(_:_:timeout:)``), and the next request gets a new one.
    ///
    /// The closure is called again, on another connection, only when it failed because its connection was found
    /// broken before any of its statements was handed to the server (``PostgresError/statementNotSent``: the server
    /// closed the idle connection, in a shutdown or a failover, just before the closure used it). The server cannot
    /// have run any of its statements then, so a write is not repeated; the new connection comes from the factory,
    /// which waits for the database to come back as its retry policy allows. A statement that was handed over is never
    /// retried: if its connection breaks (a crash mid-query, or SQLSTATE `57P01` when a primary is shut down or
    /// demoted), the error reaches the caller, because the server may have run it. Keep effects outside the database
    /// after the closure's statements, since the closure may run again when none of them was sent.
    ///
    /// - Parameter body: The work to do with the connection.
    /// - Returns: What the closure returns.
    /// - Throws: What the closure throws; the factory's ``PostgresError`` when no connection can be made;
    ///   ``PostgresError/Code/poolClosed`` after ``close()``; `CancellationError` when the task is cancelled while
    ///   waiting.
    public func withConnection<Result>(
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        var retries = 0
        while true {
            let connection = try await self.lease()
            let sent = connection.statementsSent
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                self.giveBack(connection)
                let neverSent = (error as? PostgresError)?.statementNotSent == true && connection.statementsSent == sent
                // Bounded: each retry takes another connection, and the pool holds at most maxConnections idle ones.
                if neverSent && retries <= self.configuration.maxConnections {
                    retries += 1
                    self.logger.debug(
                        "postgres pool retries on another connection: the statement was never sent",
                        metadata: [LogKeys.endpoint: "\(connection.endpoint)", LogKeys.error: "\(error)"]
                    )
                    continue
                }
                throw error
            }
            self.giveBack(connection)
            return result
        }
    }

    /// Closes the pool now and ends ``run()`` if it runs: closes the idle connections and fails the waiting tasks;
    /// connections in use are closed when they come back. Later calls to ``withConnection(_:)`` throw
    /// ``PostgresError/Code/poolClosed``. Synchronous and idempotent; it does not wait.
    public func close() {
        let (idle, waiters, drained) = self.state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle.map(\.connection), state.waiters, state.takeDrainWaitersIfDrained())
        }
        for connection in idle { connection.close() }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(.poolClosed, "the pool was closed"))
        }
        drained.resume()
        self.closing.signal()
    }

    // MARK: Lifecycle

    /// Follows the factory's location (``PostgresConnectionFactory/run()``) and holds the pool open until graceful
    /// shutdown, cancellation or ``close()``; then closes it and, unless the task was cancelled, waits until every
    /// connection in use has come back and been closed.
    ///
    /// Following the location means that a database that moves in discovery (a new Patroni leader, a changed key) is
    /// used as soon as it is published: idle connections to the old place are dropped, new ones go to the new place.
    /// Connections are opened on demand and checked when they are lent. `run()` is also what ties the pool's life to
    /// the application's: in a `ServiceGroup`, the pool closes on graceful shutdown and
    /// `run()` returns once no connection of the pool is open. Cancelling the task while it waits for connections in
    /// use returns at once; those are closed when they come back. `run()` may be called once: a second call is a
    /// programming error and stops the process.
    public func run() async {
        precondition(
            !self.running.exchange(true, ordering: .relaxed),
            "PostgresConnectionPool.run() may be called only once"
        )
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.factory.run() }
                await self.closing.wait(after: 0)
                group.cancelAll()
            }
        }
        self.close()
        await self.waitUntilDrained()
    }

    /// Waits until the pool is closed and no connection is leased, or the task is cancelled.
    private func waitUntilDrained() async {
        await self.state.wait(in: \.drainWaiters) { $0.closed && $0.leased == 0 }
    }

    /// Gets a checked connection, opening one through the factory when needed; the slot is given back on failure.
    private func lease() async throws -> PostgresConnection {
        var lease = try await self.acquire()
        while true {
            switch lease {
            case .idle(let connection, let since):
                if connection.locationGeneration < self.factory.generation {
                    self.discard(connection, "postgres pool discarded an idle connection to a former location")
                    lease = .create
                    continue
                }
                connection.queryTimeouts = self.configuration.queryTimeouts
                if await self.validate(connection, idleSince: since) { return connection }
                self.factory.metrics.discarded.increment()
                self.logger.debug(
                    "postgres pool discarded a broken idle connection",
                    metadata: [LogKeys.endpoint: "\(connection.endpoint)"]
                )
                connection.close()
                lease = .create
            case .create:
                do {
                    let connection = try await self.factory.makeConnection()
                    connection.queryTimeouts = self.configuration.queryTimeouts
                    return connection
                } catch {
                    self.release(nil)
                    throw error
                }
            }
        }
    }

    private func acquire() async throws -> PoolLease {
        try Task.checkCancellation()
        let generation = self.factory.generation
        let (immediate, stale) = try self.state.withLock {
            state throws(PostgresError) -> (PoolLease?, [PostgresConnection]) in
            guard !state.closed else { throw PostgresError(.poolClosed, "the pool was closed") }
            let stale = state.dropIdle(olderThan: generation)
            return (state.acquire(), stale)
        }
        for connection in stale {
            self.discard(connection, "postgres pool discarded an idle connection to a former location")
        }
        if let immediate { return immediate }
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PoolLease, any Error>) in
                let outcome = self.state.withLock { state -> Result<PoolLease, any Error>? in
                    if state.closed { return .failure(PostgresError(.poolClosed, "the pool was closed")) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let lease = state.acquire() { return .success(lease) }
                    state.waiters.append(PoolState.Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> PoolState.Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Whether an idle connection can be reused: a check without a round trip, then `SELECT 1` if it idled long.
    private func validate(_ connection: PostgresConnection, idleSince: ContinuousClock.Instant) async -> Bool {
        guard connection.checkIdle() else { return false }
        guard idleSince.duration(to: .now) >= self.configuration.validationInterval else { return true }
        do {
            _ = try await connection.query("SELECT 1")
            return true
        } catch {
            return false
        }
    }

    private func discard(_ connection: PostgresConnection, _ message: Logger.Message) {
        self.factory.metrics.discarded.increment()
        self.logger.debug(message, metadata: [LogKeys.endpoint: "\(connection.endpoint)"])
        connection.close()
    }

    /// Returns a connection after use: reused if it is still good, made at the factory's current location, and the
    /// pool is open; closed otherwise.
    private func giveBack(_ connection: PostgresConnection) {
        guard connection.locationGeneration >= self.factory.generation && connection.checkIdle() else {
            self.discard(connection)
            return
        }
        self.release(connection)
    }

    /// Closes a connection that must not be reused and frees its place in the pool.
    private func discard(_ connection: PostgresConnection) {
        self.factory.metrics.discarded.increment()
        connection.close()
        self.release(nil)
    }

    private func release(_ connection: PostgresConnection?) {
        let (handOver, closeIt, drained) = self.state.withLock {
            state -> ((PoolState.Waiter, PoolLease)?, Bool, Waiters.Resumption) in
            if state.closed {
                state.leased -= 1
                return (nil, connection != nil, state.takeDrainWaitersIfDrained())
            }
            return (state.release(connection, now: .now), false, .none)
        }
        if closeIt { connection?.close() }
        if let (waiter, lease) = handOver { waiter.continuation.resume(returning: lease) }
        drained.resume()
    }
}
