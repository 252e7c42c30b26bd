// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CBeaconLibPQ
import Synchronization

extension PostgresConnection {
    /// Runs one SQL statement with parameters and returns its rows, waiting at most the connection's
    /// ``queryTimeouts`` limit (30 seconds by default).
    ///
    /// The statement is sent with `PQsendQueryParams`: parameters travel as separate values (`$1`, `$2`, ...), never
    /// inside the SQL text. Results arrive in text form and are read with ``PostgresRow/decode(_:column:)-(_,Int)``.
    /// `COPY` is not supported. What happens when the limit passes is told at ``query(_:_:timeout:)``.
    ///
    /// - Parameters:
    ///   - sql: One SQL statement, with `$n` placeholders.
    ///   - parameters: The placeholders' values, in order.
    /// - Returns: The rows (empty for statements that return none), with the command tag and affected row count.
    /// - Throws: ``PostgresError``: ``PostgresError/Code/queryFailed`` with the server's SQLSTATE, message, detail
    ///   and hint when the server rejects the statement (the connection stays usable);
    ///   ``PostgresError/Code/queryTimedOut`` when no result came within the limit (the connection is closed);
    ///   ``PostgresError/Code/connectionClosed`` when the connection is closed or breaks (with
    ///   ``PostgresError/statementNotSent`` set when it was found closed before the statement was handed over);
    ///   ``PostgresError/Code/connectionBusy`` when another query is running. `CancellationError` when the task is
    ///   cancelled: the query's outcome is then unknown, so the connection is closed.
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await self.query(sql, parameters, timeout: self.queryTimeouts.timeout)
    }

    /// Runs one SQL statement with parameters and returns its rows, waiting at most `timeout` for the server.
    ///
    /// The wait happens on the poll thread, never on the cooperative pool. When the deadline passes, the connection
    /// sends libpq's cancel request (from a short-lived thread of its own, as libpq's `PQcancel` blocks) and waits up
    /// to ``QueryTimeouts/cancelGracePeriod`` for the server to end the query, which it does with SQLSTATE `57014`
    /// (`query_canceled`). Whether it answers or not (a frozen server does not), the query throws
    /// ``PostgresError/Code/queryTimedOut`` and the connection is closed: a pool replaces it with a new one.
    ///
    /// ```swift
    /// let report = try await connection.query("SELECT * FROM monthly_totals($1)", [month], timeout: .seconds(300))
    /// ```
    ///
    /// - Parameters:
    ///   - sql: One SQL statement, with `$n` placeholders.
    ///   - parameters: The placeholders' values, in order.
    ///   - timeout: How long to wait for the result, or `nil` to wait without limit (this call only).
    /// - Returns: The rows (empty for statements that return none), with the command tag and affected row count.
    /// - Throws: ``PostgresError``: ``PostgresError/Code/queryTimedOut`` when no result came within `timeout`, with the
    ///   endpoint, the time waited and ``PostgresError/cancelAnswered``; the statement may or may not have run. Else as
    ///   ``query(_:_:)``; `CancellationError` when the task is cancelled (the connection is closed).
    public func query(
        _ sql: String,
        _ parameters: [PostgresValue] = [],
        timeout: Duration?
    ) async throws -> PostgresRows {
        let handle = try self.beginOperation()
        let grace = self.queryTimeouts.cancelGracePeriod
        do {
            let rows = try await self.run(handle, sql, parameters, timeout: timeout, grace: grace)
            self.endOperation(broken: !handle.isOK)
            return rows
        } catch let error as PostgresError {
            self.endOperation(broken: error.breaksConnection || !handle.isOK)
            throw error
        } catch is SocketPoller.Interrupted {
            self.endOperation(broken: true)
            throw PostgresError(
                .connectionClosed,
                "the connection was closed during the query",
                endpoint: self.endpoint
            )
        } catch {
            self.endOperation(broken: true)
            throw error
        }
    }

    /// Runs the statement until its deadline; past it, cancels it and throws ``PostgresError/Code/queryTimedOut``.
    private func run(
        _ handle: ConnectionHandle,
        _ sql: String,
        _ parameters: [PostgresValue],
        timeout: Duration?,
        grace: Duration
    ) async throws -> PostgresRows {
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        do {
            return try await self.run(handle, sql, parameters, until: deadline)
        } catch is QueryDeadlinePassed {
            throw try await self.cancelLateQuery(handle, waited: timeout ?? .zero, grace: grace)
        }
    }

    private func run(
        _ handle: ConnectionHandle,
        _ sql: String,
        _ parameters: [PostgresValue],
        until deadline: ContinuousClock.Instant?
    ) async throws
        -> PostgresRows
    {
        // A connection the server closed while it was idle (a shutdown, a failover) is found here, before the statement
        // is handed over: the server cannot have run it, and the error says so.
        guard Self.isUp(handle) else {
            var error = self.connectionError(handle)
            error.statementNotSent = true
            throw error
        }
        guard Self.send(handle, sql, parameters) else {
            // libpq refused to queue it (the connection was already known broken): nothing complete reached the server.
            var error = self.connectionError(handle)
            error.statementNotSent = true
            throw error
        }
        self.state.withLock { $0.statementsSent += 1 }
        // Flush: in non-blocking mode PQflush returns 1 while data is left to send.
        while true {
            let flushed = PQflush(handle.raw)
            if flushed == 0 { break }
            if flushed < 0 { throw self.connectionError(handle) }
            let ready = try await self.waitForSocket(handle, [.read, .write], until: deadline)
            if ready.contains(.read) && PQconsumeInput(handle.raw) == 0 { throw self.connectionError(handle) }
        }
        var rows: PostgresRows?
        var failure: PostgresError?
        while true {
            while PQisBusy(handle.raw) != 0 {
                _ = try await self.waitForSocket(handle, .read, until: deadline)
                if PQconsumeInput(handle.raw) == 0 { throw self.connectionError(handle) }
            }
            guard let result = PQgetResult(handle.raw) else { break }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            switch status {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                rows = Self.rows(result)
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                if failure == nil { failure = self.serverError(result, handle) }
            default:
                // COPY and other streaming results would need their own protocol: refuse and drop the connection.
                let name = PQresStatus(status).map { String(cString: $0) } ?? "\(status)"
                throw PostgresError(.connectionClosed, "unsupported result status \(name)", endpoint: self.endpoint)
            }
        }
        if let failure { throw failure }
        return rows ?? PostgresRows(columns: [], values: [], command: "", rowsAffected: nil)
    }

    /// Calls `PQsendQueryParams` with C copies of the parameters that are freed as soon as it returns (libpq copies
    /// them into its output buffer), so no pointer outlives the call.
    private static func send(_ handle: ConnectionHandle, _ sql: String, _ parameters: [PostgresValue]) -> Bool {
        var types: [UInt32] = []
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer {
            for value in values { value?.deallocate() }
        }
        for parameter in parameters {
            let (bytes, binary) = parameter.wireForm
            types.append(parameter.typeOID)
            formats.append(binary ? 1 : 0)
            lengths.append(Int32(bytes?.count ?? 0))
            guard let bytes else {
                values.append(nil)
                continue
            }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: source.count)
                }
            }
            buffer[bytes.count] = 0
            values.append(buffer)
        }
        let constValues = values.map { UnsafePointer($0) }
        return PQsendQueryParams(
            handle.raw,
            sql,
            Int32(parameters.count),
            types,
            constValues,
            lengths,
            formats,
            0
        ) == 1
    }

    /// Copies a result's rows out of libpq's memory.
    private static func rows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            let name = PQfname(result, Int32(column)).map { String(cString: $0) } ?? ""
            columns.append(PostgresColumn(name: name, dataTypeID: PQftype(result, Int32(column))))
        }
        var values: [[UInt8]?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let start = UnsafeRawPointer(PQgetvalue(result, row, column))
                    values.append(Array(UnsafeRawBufferPointer(start: start, count: length)))
                }
            }
        }
        let command = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) }
        return PostgresRows(columns: columns, values: values, command: command, rowsAffected: affected)
    }

    /// The error the server sent with a result: SQLSTATE, message, detail, hint.
    private func serverError(_ result: OpaquePointer, _ handle: ConnectionHandle) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let message =
            field(UInt8(ascii: "M"))
            ?? ConnectionHandle.oneLine(
                PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
            )
        let sqlState = field(UInt8(ascii: "C")).map(SQLState.init(rawValue:))
        let broken = !handle.isOK
        return PostgresError(
            broken ? .connectionClosed : .queryFailed,
            self.parameters.masking(message),
            sqlState: sqlState,
            detail: field(UInt8(ascii: "D")).map(self.parameters.masking),
            hint: field(UInt8(ascii: "H")),
            endpoint: self.endpoint
        )
    }

    /// The error for a failure of the connection itself.
    private func connectionError(_ handle: ConnectionHandle) -> PostgresError {
        let message = handle.errorMessage
        return PostgresError(
            .connectionClosed,
            message.isEmpty ? "the connection broke" : self.parameters.masking(message),
            endpoint: self.endpoint
        )
    }
}
