// SPDX-License-Identifier: Apache-2.0

/// A PostgreSQL SQLSTATE: the five-character error code a server sends with every error.
///
/// A struct over the raw code rather than an enum, so that every code the server may send is representable; the
/// constants below name the ones applications most often test for.
///
/// ```swift
/// if error.sqlState == .uniqueViolation { ... }
/// if error.sqlState?.class == "08" { ... }  // a connection exception
/// ```
public struct SQLState: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    /// The five characters, for example `23505`.
    public var rawValue: String

    /// Wraps a code.
    ///
    /// - Parameter rawValue: The five-character code.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The class: the first two characters (`23` for integrity constraint violations).
    public var `class`: String { String(self.rawValue.prefix(2)) }

    /// The code itself.
    public var description: String { self.rawValue }

    /// `08006`: the connection failed.
    public static let connectionFailure = SQLState(rawValue: "08006")
    /// `08001`: the client could not establish a connection.
    public static let sqlClientUnableToEstablishSQLConnection = SQLState(rawValue: "08001")
    /// `28000`: the role or `pg_hba.conf` rejected the connection.
    public static let invalidAuthorizationSpecification = SQLState(rawValue: "28000")
    /// `28P01`: wrong password.
    public static let invalidPassword = SQLState(rawValue: "28P01")
    /// `3D000`: the database does not exist.
    public static let invalidCatalogName = SQLState(rawValue: "3D000")
    /// `23505`: a unique constraint was violated.
    public static let uniqueViolation = SQLState(rawValue: "23505")
    /// `23502`: a NOT NULL constraint was violated.
    public static let notNullViolation = SQLState(rawValue: "23502")
    /// `42601`: syntax error.
    public static let syntaxError = SQLState(rawValue: "42601")
    /// `42P01`: the table does not exist.
    public static let undefinedTable = SQLState(rawValue: "42P01")
    /// `42703`: the column does not exist.
    public static let undefinedColumn = SQLState(rawValue: "42703")
    /// `22P02`: a value has the wrong text form for its type.
    public static let invalidTextRepresentation = SQLState(rawValue: "22P02")
    /// `22012`: division by zero.
    public static let divisionByZero = SQLState(rawValue: "22012")
    /// `40001`: serialization failure; retry the transaction.
    public static let serializationFailure = SQLState(rawValue: "40001")
    /// `40P01`: deadlock detected; retry the transaction.
    public static let deadlockDetected = SQLState(rawValue: "40P01")
    /// `25006`: a write in a read-only transaction (for example on a standby).
    public static let readOnlySQLTransaction = SQLState(rawValue: "25006")
    /// `57014`: the query was cancelled.
    public static let queryCanceled = SQLState(rawValue: "57014")
    /// `57P01`: the server is shutting down.
    public static let adminShutdown = SQLState(rawValue: "57P01")
    /// `57P02`: the server crashed.
    public static let crashShutdown = SQLState(rawValue: "57P02")
    /// `57P03`: the server is starting up or otherwise cannot accept connections now.
    public static let cannotConnectNow = SQLState(rawValue: "57P03")
}
