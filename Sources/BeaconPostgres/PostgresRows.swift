// SPDX-License-Identifier: Apache-2.0

/// A column of a query result: its name and the OID of its type.
public struct PostgresColumn: Hashable, Sendable {
    /// The column's name (`?column?` for an unnamed expression).
    public var name: String
    /// The OID of the column's type, for example 25 for `text` or 20 for `int8`.
    public var dataTypeID: UInt32

    /// Creates a column description.
    ///
    /// - Parameters:
    ///   - name: The column's name.
    ///   - dataTypeID: The OID of its type.
    public init(name: String, dataTypeID: UInt32) {
        self.name = name
        self.dataTypeID = dataTypeID
    }
}

/// The result of a query: its columns, its rows, and the command tag.
///
/// The rows are a random-access collection of ``PostgresRow``:
///
/// ```swift
/// let rows = try await connection.query("SELECT id, name FROM users WHERE id = $1", [7])
/// for row in rows {
///     let id = try row.decode(Int.self, column: "id")
///     let name = try row.decode(String?.self, column: "name")
/// }
/// ```
public struct PostgresRows: RandomAccessCollection, Sendable {
    /// The result's columns, in order.
    public let columns: [PostgresColumn]
    /// The command tag, for example `SELECT 2` or `INSERT 0 1`.
    public let command: String
    /// The number of rows the command affected or returned, when the command reports one.
    public let rowsAffected: Int?
    private let values: [[UInt8]?]

    init(columns: [PostgresColumn], values: [[UInt8]?], command: String, rowsAffected: Int?) {
        self.columns = columns
        self.values = values
        self.command = command
        self.rowsAffected = rowsAffected
    }

    /// The first row's index, 0.
    public var startIndex: Int { 0 }

    /// The number of rows.
    public var endIndex: Int { self.columns.isEmpty ? 0 : self.values.count / self.columns.count }

    /// The row at a position.
    ///
    /// - Parameter position: From 0 to `count - 1`.
    public subscript(position: Int) -> PostgresRow {
        let width = self.columns.count
        return PostgresRow(columns: self.columns, values: self.values[(position * width)..<((position + 1) * width)])
    }
}

/// One row of a ``PostgresRows`` result.
public struct PostgresRow: Sendable {
    /// The result's columns, in order.
    public let columns: [PostgresColumn]
    private let values: ArraySlice<[UInt8]?>

    init(columns: [PostgresColumn], values: ArraySlice<[UInt8]?>) {
        self.columns = columns
        self.values = values
    }

    /// The cell in a column.
    ///
    /// - Parameter column: The column's position, from 0.
    public subscript(column: Int) -> PostgresCell {
        PostgresCell(column: self.columns[column], bytes: self.values[self.values.startIndex + column])
    }

    /// The cell in the first column with a name.
    ///
    /// - Parameter name: The column's name.
    /// - Returns: The cell.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decodingFailed`` when no column has that name.
    public func cell(_ name: String) throws(PostgresError) -> PostgresCell {
        guard let index = self.columns.firstIndex(where: { $0.name == name }) else {
            throw PostgresError(.decodingFailed, "no column named \"\(name)\"")
        }
        return self[index]
    }

    /// Reads a column as a type.
    ///
    /// - Parameters:
    ///   - type: The type to read, for example `Int.self` or `String?.self` for a nullable column.
    ///   - column: The column's position, from 0.
    /// - Returns: The value.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decodingFailed`` when the value is NULL (and the
    ///   type is not optional) or has the wrong form.
    public func decode<T: PostgresDecodable>(_ type: T.Type, column: Int) throws(PostgresError) -> T {
        try T(postgresCell: self[column])
    }

    /// Reads a column, found by name, as a type.
    ///
    /// - Parameters:
    ///   - type: The type to read, for example `Int.self` or `String?.self` for a nullable column.
    ///   - column: The column's name.
    /// - Returns: The value.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decodingFailed`` when there is no such column, or
    ///   the value is NULL (and the type is not optional) or has the wrong form.
    public func decode<T: PostgresDecodable>(_ type: T.Type, column: String) throws(PostgresError) -> T {
        try T(postgresCell: try self.cell(column))
    }
}

/// One value of a result: its column and its bytes in PostgreSQL's text form, or `nil` for NULL.
public struct PostgresCell: Hashable, Sendable {
    /// The cell's column.
    public var column: PostgresColumn
    /// The value in PostgreSQL's text output form, or `nil` for NULL.
    public var bytes: [UInt8]?

    /// Creates a cell.
    ///
    /// - Parameters:
    ///   - column: The cell's column.
    ///   - bytes: The value in text form, or `nil` for NULL.
    public init(column: PostgresColumn, bytes: [UInt8]?) {
        self.column = column
        self.bytes = bytes
    }

    /// Whether the value is NULL.
    public var isNull: Bool { self.bytes == nil }

    /// The value's text form, or `nil` for NULL.
    public var text: String? { self.bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The error for a value that cannot be read as a type.
    ///
    /// - Parameters:
    ///   - type: What was asked for.
    ///   - reason: Why it failed, or `nil` for "the text has the wrong form".
    /// - Returns: The error, naming the column.
    func mismatch(_ type: String, _ reason: String? = nil) -> PostgresError {
        let shown = self.text.map { $0.count > 40 ? String($0.prefix(37)) + "..." : $0 } ?? "NULL"
        return PostgresError(
            .decodingFailed,
            "column \"\(self.column.name)\" (type \(self.column.dataTypeID)): "
                + (reason ?? "\"\(shown)\" is not \(type)")
        )
    }
}
