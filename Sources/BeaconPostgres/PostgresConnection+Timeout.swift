// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconLibPQ
import Logging

/// The deadline of a wait on the socket passed before the socket was ready.
struct QueryDeadlinePassed: Error {}

extension PostgresConnection {
    /// What became of the cancel request of a query past its deadline.
    private enum CancelOutcome {
        /// The server ended the query within the grace period, with this SQLSTATE (`57014` when the cancel hit it).
        case answered(SQLState?)
        /// The server did not end the query within the grace period, or the connection broke meanwhile.
        case unanswered
        /// No request was sent: an earlier one to the server is overdue, or libpq or the system refused.
        case notSent
    }

    /// Cancels a query whose deadline passed, waits for the server's answer for up to the grace period, and returns the
    /// error the query throws. The caller closes the connection: the error breaks it.
    ///
    /// - Parameters:
    ///   - handle: The connection's handle, lent to the running query.
    ///   - waited: The query's timeout, for the message.
    ///   - grace: How long to wait for the server to end the query after the cancel request.
    /// - Returns: A ``PostgresError/Code/queryTimedOut`` error.
    /// - Throws: `CancellationError` when the task is cancelled meanwhile; ``SocketPoller/Interrupted`` after
    ///   ``close()``.
    func cancelLateQuery(_ handle: ConnectionHandle, waited: Duration, grace: Duration) async throws -> PostgresError {
        let outcome: CancelOutcome
        if CancelRequest.start(for: handle, endpoint: self.endpoint, overdueAfter: grace, logger: self.logger) {
            outcome = try await self.awaitEnd(handle, until: ContinuousClock.now.advanced(by: grace))
        } else {
            outcome = .notSent
        }
        var error: PostgresError
        switch outcome {
        case .answered(let sqlState):
            error = PostgresError(
                .queryTimedOut,
                "no result within \(waited); the server ended the query after the cancel request, and the connection "
                    + "was closed",
                sqlState: sqlState,
                endpoint: self.endpoint
            )
            error.cancelAnswered = true
        case .unanswered:
            error = PostgresError(
                .queryTimedOut,
                "no result within \(waited); the server did not answer the cancel request within \(grace), so the "
                    + "connection was closed",
                endpoint: self.endpoint
            )
            error.cancelAnswered = false
        case .notSent:
            error = PostgresError(
                .queryTimedOut,
                "no result within \(waited); no cancel request was sent, as an earlier one to this server has gone "
                    + "unanswered for longer than \(grace), so the connection was closed",
                endpoint: self.endpoint
            )
            error.cancelAnswered = false
        }
        self.logger.debug(
            "postgres query timed out",
            metadata: [LogKeys.endpoint: "\(self.endpoint)", LogKeys.error: "\(error)"]
        )
        return error
    }

    /// Reads the rest of the query's results until the query ends or the deadline passes.
    ///
    /// Output still queued (a query cut off while it was being sent) is flushed on the way.
    private func awaitEnd(
        _ handle: ConnectionHandle,
        until deadline: ContinuousClock.Instant
    ) async throws
        -> CancelOutcome
    {
        var sqlState: SQLState?
        do {
            while true {
                let flushed = PQflush(handle.raw)
                if flushed < 0 { return .unanswered }
                if flushed == 0 && PQisBusy(handle.raw) == 0 {
                    guard let result = PQgetResult(handle.raw) else { return .answered(sqlState) }
                    defer { PQclear(result) }
                    switch PQresultStatus(result) {
                    case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                        continue
                    case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
                        if sqlState == nil {
                            sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C")))
                                .map { SQLState(rawValue: String(cString: $0)) }
                        }
                        continue
                    default:
                        // A broken or streaming result: the connection is closed anyway.
                        return .unanswered
                    }
                }
                _ = try await self.waitForSocket(handle, flushed == 0 ? .read : [.read, .write], until: deadline)
                if PQconsumeInput(handle.raw) == 0 { return .unanswered }
            }
        } catch is QueryDeadlinePassed {
            return .unanswered
        }
    }
}
