// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconLibPQ

/// A libpq connection pointer (`PGconn *`), owned by exactly one ``PostgresConnection`` (or by the connect routine
/// before the connection exists).
///
/// `@unchecked Sendable` is safe because a handle is only ever used by one task at a time: the connect routine owns
/// it until it hands it to a new ``PostgresConnection``, which keeps it in a `Lock` and lends it to one operation
/// at a time (its `busy` flag), and `PQfinish` is called once, by whoever takes it out of the `Lock` (the pointer is
/// set to `nil` in the same critical section). libpq allows a `PGconn` to move between threads as long as two threads
/// never use it at once (`PQisthreadsafe() == 1`).
struct ConnectionHandle: @unchecked Sendable {
    let raw: OpaquePointer
    /// The connection's hold on the poll thread, from the start of the connect until the handle's last copy is dropped
    /// (after `PQfinish`).
    let pollerClaim: SocketPoller.Claim

    /// The host and port libpq is connected to (or last tried).
    var endpoint: Endpoint? {
        guard let host = PQhost(self.raw), let port = PQport(self.raw) else { return nil }
        let hostText = String(cString: host)
        guard !hostText.isEmpty else { return nil }
        return Endpoint(host: hostText, port: Int(String(cString: port)) ?? 5432)
    }

    /// libpq's last error message on one line (libpq separates hosts' messages with line breaks).
    var errorMessage: String {
        Self.oneLine(PQerrorMessage(self.raw).map { String(cString: $0) } ?? "")
    }

    /// Whether the connection is up as far as libpq knows.
    var isOK: Bool { PQstatus(self.raw) == CONNECTION_OK }

    /// Joins lines and drops tabs and trailing white space.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.split(separator: "\t", omittingEmptySubsequences: true).joined(separator: " ") }
            .map { String($0).trimmingSpaces() }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    /// The error for a failed connect: authentication failures are told apart from the rest.
    ///
    /// libpq gives no SQLSTATE for a failed connect, so the classes that matter for retrying are recognised from
    /// `PQconnectionNeedsPassword` and the server's message.
    func connectError(_ parameters: PostgresParameters) -> PostgresError {
        let message = parameters.masking(self.errorMessage)
        let endpoint = self.endpoint ?? parameters.endpoints.first
        if PQconnectionNeedsPassword(self.raw) != 0 || message.contains("no password supplied") {
            return PostgresError(.authenticationFailed, message, sqlState: .invalidPassword, endpoint: endpoint)
        }
        if message.contains("password authentication failed") || message.contains("SCRAM")
            || message.contains("authentication failed for user")
        {
            return PostgresError(.authenticationFailed, message, sqlState: .invalidPassword, endpoint: endpoint)
        }
        if message.contains("no pg_hba.conf entry") || (message.contains("role \"") && message.contains("not exist")) {
            return PostgresError(
                .authenticationFailed,
                message,
                sqlState: .invalidAuthorizationSpecification,
                endpoint: endpoint
            )
        }
        if message.contains("database \"") && message.contains("does not exist") {
            return PostgresError(.connectionFailed, message, sqlState: .invalidCatalogName, endpoint: endpoint)
        }
        return PostgresError(.connectionFailed, message, endpoint: endpoint)
    }
}

extension String {
    /// The text without leading and trailing white space.
    func trimmingSpaces() -> String {
        guard let first = self.firstIndex(where: { !$0.isWhitespace }),
            let last = self.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
