// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconLibPQ
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

extension PostgresConnection {
    /// Connects to a server with libpq's non-blocking connect (`PQconnectStartParams`, then `PQconnectPoll`).
    ///
    /// The parameters go to libpq as keyword/value arrays. libpq tries the endpoints in order; each may take up to
    /// ``PostgresParameters/connectTimeout`` (Beacon's own deadline, since the non-blocking connect ignores
    /// `connect_timeout`). Host names are resolved by libpq; give numeric addresses to avoid any DNS lookup.
    ///
    /// - Parameters:
    ///   - parameters: Where and how to connect.
    ///   - logger: Where the connection logs (debug level: connected, closed).
    /// - Returns: An open connection, owned by the caller, who must ``close()`` it.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/connectionFailed``,
    ///   ``PostgresError/Code/authenticationFailed`` or ``PostgresError/Code/timedOut``; `CancellationError` when the
    ///   task is cancelled (the half-open connection is closed at once).
    public static func connect(
        to parameters: PostgresParameters,
        logger: Logger = Logger(label: "beacon.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> PostgresConnection {
        try await Self.connect(to: parameters, logger: logger, locationGeneration: 0)
    }

    /// Connects, recording the factory's location generation the parameters were read at.
    static func connect(
        to parameters: PostgresParameters,
        logger: Logger,
        locationGeneration: UInt64
    ) async throws -> PostgresConnection {
        try Task.checkCancellation()
        let handle = try Self.start(parameters)
        do {
            try await Self.poll(handle, parameters)
        } catch {
            PQfinish(handle.raw)
            throw error
        }
        guard PQsetnonblocking(handle.raw, 1) == 0 else {
            let error = PostgresError(.connectionFailed, handle.errorMessage, endpoint: handle.endpoint)
            PQfinish(handle.raw)
            throw error
        }
        let endpoint = handle.endpoint ?? parameters.endpoints[0]
        logger.debug("postgres connection opened", metadata: [LogKeys.endpoint: "\(endpoint)"])
        return PostgresConnection(
            handle: handle,
            endpoint: endpoint,
            parameters: parameters,
            logger: logger,
            locationGeneration: locationGeneration
        )
    }

    /// `PQconnectStartParams` with C copies of the keywords and values that live until it returns (libpq copies
    /// them into the connection object).
    private static func start(_ parameters: PostgresParameters) throws(PostgresError) -> ConnectionHandle {
        let options = parameters.libpqOptions
        let keywords = options.map { strdup($0.0) } + [nil]
        let values = options.map { strdup($0.1) } + [nil]
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let raw = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                // expand_dbname = 0: the database name is a name, never a conninfo string to expand.
                PQconnectStartParams(keywordPointers.baseAddress, valuePointers.baseAddress, 0)
            }
        }
        guard let raw else {
            throw PostgresError(.connectionFailed, "libpq could not allocate a connection", endpoint: nil)
        }
        // The poll thread runs while a connection exists: the connect's waits need it from here on.
        let handle = ConnectionHandle(raw: raw, pollerClaim: SocketPoller.shared.claim())
        guard PQstatus(raw) != CONNECTION_BAD else {
            let error = handle.connectError(parameters)
            PQfinish(raw)
            throw error
        }
        return handle
    }

    /// Drives `PQconnectPoll` until the connection is up, waiting for the socket on the poll thread.
    ///
    /// The socket is read again after every poll: libpq replaces it when it moves on to the next host. The deadline
    /// restarts when the host changes, as libpq's own `connect_timeout` is per host.
    private static func poll(_ handle: ConnectionHandle, _ parameters: PostgresParameters) async throws {
        let poller = SocketPoller.shared
        let clock = ContinuousClock()
        var status = PGRES_POLLING_WRITING
        var endpoint = handle.endpoint
        var deadline = clock.now.advanced(by: parameters.connectTimeout)
        while true {
            switch status {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_FAILED:
                throw handle.connectError(parameters)
            default:
                let socket = PQsocket(handle.raw)
                guard socket >= 0 else { throw handle.connectError(parameters) }
                let events: SocketPoller.Events = status == PGRES_POLLING_READING ? .read : .write
                let outcome = try await poller.wait(id: poller.makeID(), socket: socket, for: events, until: deadline)
                if outcome == .timedOut {
                    throw PostgresError(
                        .timedOut,
                        "the server did not complete the connection within \(parameters.connectTimeout)",
                        endpoint: handle.endpoint ?? parameters.endpoints.first
                    )
                }
                status = PQconnectPoll(handle.raw)
                let current = handle.endpoint
                if current != endpoint {
                    endpoint = current
                    deadline = clock.now.advanced(by: parameters.connectTimeout)
                }
            }
        }
    }
}
