// SPDX-License-Identifier: Apache-2.0

/// A type that can be read from a result cell (see ``PostgresRow/decode(_:column:)-(_,Int)``).
///
/// `String`, `Int`, `Int64`, `Int32`, `Double`, `Float`, `Bool` and `[UInt8]` (for `bytea`) conform; an
/// `Optional` of any of them reads NULL as `nil`.
public protocol PostgresDecodable: Sendable {
    /// Reads a value from a cell.
    ///
    /// - Parameter postgresCell: The cell, with its text form and column type.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decodingFailed`` for NULL or a wrong form.
    init(postgresCell: PostgresCell) throws(PostgresError)
}

extension PostgresCell {
    /// The text of a non-NULL cell.
    func requireText(_ type: String) throws(PostgresError) -> String {
        guard let text = self.text else { throw self.mismatch(type, "NULL where \(type) was expected") }
        return text
    }
}

extension String: PostgresDecodable {
    /// Reads the cell's text form.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        self = try postgresCell.requireText("a string")
    }
}

extension Int64: PostgresDecodable {
    /// Reads an integer column (`int2`, `int4`, `int8`, `oid`) or integral text.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or text that is not an integer in range.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        guard let value = Int64(try postgresCell.requireText("an integer")) else {
            throw postgresCell.mismatch("an integer")
        }
        self = value
    }
}

extension Int: PostgresDecodable {
    /// Reads an integer column (`int2`, `int4`, `int8`, `oid`) or integral text.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or text that is not an integer in range.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        guard let value = Int(try postgresCell.requireText("an integer")) else {
            throw postgresCell.mismatch("an integer")
        }
        self = value
    }
}

extension Int32: PostgresDecodable {
    /// Reads an integer column whose values fit in 32 bits.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or text that is not an integer in range.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        guard let value = Int32(try postgresCell.requireText("a 32-bit integer")) else {
            throw postgresCell.mismatch("a 32-bit integer")
        }
        self = value
    }
}

extension Double: PostgresDecodable {
    /// Reads a floating-point or numeric column (`float4`, `float8`, `numeric`, integers), including `NaN`,
    /// `Infinity` and `-Infinity`.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or text that is not a number.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        let text = try postgresCell.requireText("a number")
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw postgresCell.mismatch("a number") }
            self = value
        }
    }
}

extension Float: PostgresDecodable {
    /// Reads a floating-point column, rounding to single precision.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or text that is not a number.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        self = Float(try Double(postgresCell: postgresCell))
    }
}

extension Bool: PostgresDecodable {
    /// Reads a `bool` column (`t` or `f`; `true`/`false` are accepted too).
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or any other text.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        switch try postgresCell.requireText("a boolean") {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw postgresCell.mismatch("a boolean")
        }
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Reads a `bytea` column (decoding its hex output form `\x...`); any other column gives its text's bytes.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: ``PostgresError`` for NULL or a malformed `bytea` text.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        guard let bytes = postgresCell.bytes else {
            throw postgresCell.mismatch("bytes", "NULL where bytes were expected")
        }
        guard postgresCell.column.dataTypeID == 17 else {
            self = bytes
            return
        }
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0
        else {
            throw postgresCell.mismatch("bytea", "bytea text is not in hex form")
        }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else {
                throw postgresCell.mismatch("bytea", "bytea text is not in hex form")
            }
            result.append(high << 4 | low)
            index += 2
        }
        self = result
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// Reads NULL as `nil`, anything else as the wrapped type.
    ///
    /// - Parameter postgresCell: The cell.
    /// - Throws: The wrapped type's error for a non-NULL value of the wrong form.
    public init(postgresCell: PostgresCell) throws(PostgresError) {
        self = postgresCell.isNull ? nil : try Wrapped(postgresCell: postgresCell)
    }
}
