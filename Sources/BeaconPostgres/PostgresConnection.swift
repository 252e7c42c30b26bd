// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
import CBeaconLibPQ
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// One connection to a PostgreSQL server, over libpq's non-blocking API.
///
/// Create one with ``connect(to:logger:)`` (or through a ``PostgresConnectionFactory`` or
/// ``PostgresConnectionPool``), run queries with ``query(_:_:)``, and ``close()`` it when done; `deinit` closes it
/// too, as a safety net. A query waits for the server at most ``queryTimeouts``' limit (30 seconds by default), then
/// sends a cancel request and closes the connection.
///
/// Every libpq call is non-blocking; waiting for the socket happens on one dedicated poll thread, which resumes the
/// waiting task, so no call ever blocks the cooperative thread pool. A connection runs one query at a time: a
/// query started while another runs fails with ``PostgresError/Code/connectionBusy`` (use a pool for concurrency).
///
/// ```swift
/// let connection = try await PostgresConnection.connect(to: parameters, logger: logger)
/// defer { connection.close() }
/// let rows = try await connection.query("SELECT $1::int8 + 1 AS next", [41])
/// print(try rows[0].decode(Int.self, column: "next"))  // 42
/// ```
public final class PostgresConnection: Sendable {
    struct State {
        /// The libpq connection, until it is closed.
        var handle: ConnectionHandle?
        /// Whether an operation has the handle.
        var busy = false
        /// Set by ``close()`` while an operation runs; the operation closes the handle when it ends.
        var closeRequested = false
        /// The poller wait the running operation is in, so that ``close()`` can interrupt it.
        var waitID: UInt64?
        /// How many statements were handed to the server (`PQsendQueryParams` succeeded) on this connection.
        var statementsSent: UInt64 = 0
        /// The limits ``query(_:_:)`` applies.
        var queryTimeouts = QueryTimeouts()
    }

    /// The server this connection is connected to (one of the parameters' endpoints).
    public let endpoint: Endpoint
    /// The parameters the connection was made with (their description masks the password).
    public let parameters: PostgresParameters
    let logger: Logger
    let state: Lock<State>
    /// The factory's location generation the parameters were read at: a pool discards the connection once the
    /// location has changed since (a new Patroni leader, a new value).
    let locationGeneration: UInt64

    init(
        handle: ConnectionHandle,
        endpoint: Endpoint,
        parameters: PostgresParameters,
        logger: Logger,
        locationGeneration: UInt64 = 0
    ) {
        self.endpoint = endpoint
        self.parameters = parameters
        self.logger = logger
        self.state = Lock(State(handle: handle))
        self.locationGeneration = locationGeneration
    }

    /// How many statements were handed to the server on this connection so far.
    var statementsSent: UInt64 { self.state.withLock { $0.statementsSent } }

    deinit {
        // A safety net: the handle is taken out (and the pointer forgotten) before PQfinish, so it runs at most once.
        if let handle = self.state.withLock({ state in
            defer { state.handle = nil }
            return state.handle
        }) {
            PQfinish(handle.raw)
        }
    }

    /// Whether the connection is closed, by ``close()`` or because it broke.
    public var isClosed: Bool {
        self.state.withLock { $0.handle == nil || $0.closeRequested }
    }

    /// Closes the connection; calling it again does nothing.
    ///
    /// If a query is running, it is interrupted and throws ``PostgresError/Code/connectionClosed``; the connection is
    /// closed as soon as it has stopped. `close()` does not wait for the server.
    public func close() {
        let handle = self.state.withLock { state -> ConnectionHandle? in
            if state.busy {
                state.closeRequested = true
                if let id = state.waitID { SocketPoller.shared.interrupt(id) }
                return nil
            }
            defer { state.handle = nil }
            return state.handle
        }
        if let handle {
            PQfinish(handle.raw)
            self.logger.debug("postgres connection closed", metadata: [LogKeys.endpoint: "\(self.endpoint)"])
        }
    }

    /// Lends the handle to one operation; the operation must call ``endOperation(broken:)`` when it ends.
    func beginOperation() throws(PostgresError) -> ConnectionHandle {
        try self.state.withLock { state throws(PostgresError) -> ConnectionHandle in
            guard let handle = state.handle, !state.closeRequested else {
                var error = PostgresError(.connectionClosed, "the connection is closed", endpoint: self.endpoint)
                error.statementNotSent = true
                throw error
            }
            guard !state.busy else {
                throw PostgresError(
                    .connectionBusy,
                    "another query is running on this connection",
                    endpoint: self.endpoint
                )
            }
            state.busy = true
            return handle
        }
    }

    /// Takes the handle back from an operation, closing it when it broke or ``close()`` was called meanwhile.
    func endOperation(broken: Bool) {
        let handle = self.state.withLock { state -> ConnectionHandle? in
            state.busy = false
            state.waitID = nil
            guard broken || state.closeRequested else { return nil }
            state.closeRequested = false
            defer { state.handle = nil }
            return state.handle
        }
        if let handle {
            PQfinish(handle.raw)
            self.logger.debug("postgres connection closed", metadata: [LogKeys.endpoint: "\(self.endpoint)"])
        }
    }

    /// Waits on the poll thread until the socket is ready, unless ``close()`` was called or the deadline passes.
    ///
    /// - Throws: ``QueryDeadlinePassed`` when the deadline passes first; ``SocketPoller/Interrupted`` after
    ///   ``close()``; `CancellationError` when the task is cancelled.
    func waitForSocket(
        _ handle: ConnectionHandle,
        _ events: SocketPoller.Events,
        until deadline: ContinuousClock.Instant? = nil
    ) async throws -> SocketPoller.Events {
        let poller = SocketPoller.shared
        let id = poller.makeID()
        let closing = self.state.withLock { state in
            if state.closeRequested { return true }
            state.waitID = id
            return false
        }
        if closing { throw SocketPoller.Interrupted() }
        let socket = PQsocket(handle.raw)
        guard socket >= 0 else {
            throw PostgresError(.connectionClosed, handle.errorMessage, endpoint: self.endpoint)
        }
        defer {
            self.state.withLock { $0.waitID = nil }
            poller.forget(id)
        }
        switch try await poller.wait(id: id, socket: socket, for: events, until: deadline) {
        case .ready(let ready): return ready
        case .timedOut: throw QueryDeadlinePassed()
        }
    }

    /// Checks, without waiting, that an idle connection is still up and outside any transaction: reads whatever the
    /// server sent (a shutdown notice, the end of the stream) and closes the connection if it broke.
    ///
    /// - Returns: `true` when the connection can be reused.
    func checkIdle() -> Bool {
        let (alive, dead) = self.state.withLock { state -> (Bool, ConnectionHandle?) in
            guard let handle = state.handle, !state.busy, !state.closeRequested else { return (false, nil) }
            var alive = Self.isUp(handle)
            if alive && PQtransactionStatus(handle.raw) != PQTRANS_IDLE { alive = false }
            guard !alive else { return (true, nil) }
            defer { state.handle = nil }
            return (false, handle)
        }
        if let dead { PQfinish(dead.raw) }
        return alive
    }

    /// Reads, without waiting, whatever the server sent to an idle connection (a shutdown notice, the end of the
    /// stream) and says whether the connection is still up.
    static func isUp(_ handle: ConnectionHandle) -> Bool {
        var alive = handle.isOK
        var descriptor = pollfd(fd: PQsocket(handle.raw), events: Int16(POLLIN), revents: 0)
        var rounds = 0
        while alive && descriptor.fd >= 0 && rounds < 4 && poll(&descriptor, 1, 0) > 0 {
            rounds += 1
            if PQconsumeInput(handle.raw) == 0 || !handle.isOK { alive = false }
        }
        return alive
    }
}
