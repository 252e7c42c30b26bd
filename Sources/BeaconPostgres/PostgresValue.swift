// SPDX-License-Identifier: Apache-2.0

/// A query parameter: text, an integer, a floating-point number, a boolean, bytes or NULL.
///
/// Parameters are sent separately from the SQL text (`$1`, `$2`, ...), never interpolated into it. Literals
/// convert implicitly:
///
/// ```swift
/// let rows = try await connection.query(
///     "SELECT $1::text, $2::int8, $3::float8, $4::bool, $5::bytea, $6::text",
///     ["hello", 42, 2.5, true, .bytes([0xDE, 0xAD]), nil]
/// )
/// ```
public struct PostgresValue: Hashable, Sendable, CustomStringConvertible {
    enum Storage: Hashable, Sendable {
        case null
        case text(String)
        case integer(Int64)
        case double(Double)
        case bool(Bool)
        case bytes([UInt8])
    }

    let storage: Storage

    private init(_ storage: Storage) {
        self.storage = storage
    }

    /// SQL NULL (its type is inferred by the server).
    public static let null = PostgresValue(.null)

    /// Text; its type is inferred by the server from the context, so it also fills `date`, `uuid` or `numeric`
    /// parameters in their text form.
    ///
    /// - Parameter value: The text.
    /// - Returns: The parameter.
    public static func text(_ value: String) -> PostgresValue { PostgresValue(.text(value)) }

    /// A 64-bit integer, sent as `int8`.
    ///
    /// - Parameter value: The integer.
    /// - Returns: The parameter.
    public static func integer(_ value: some BinaryInteger) -> PostgresValue {
        PostgresValue(.integer(Int64(value)))
    }

    /// A double-precision number, sent as `float8` (NaN and the infinities included).
    ///
    /// - Parameter value: The number.
    /// - Returns: The parameter.
    public static func double(_ value: Double) -> PostgresValue { PostgresValue(.double(value)) }

    /// A boolean, sent as `bool`.
    ///
    /// - Parameter value: The boolean.
    /// - Returns: The parameter.
    public static func bool(_ value: Bool) -> PostgresValue { PostgresValue(.bool(value)) }

    /// Bytes, sent in binary as `bytea`.
    ///
    /// - Parameter value: The bytes.
    /// - Returns: The parameter.
    public static func bytes(_ value: [UInt8]) -> PostgresValue { PostgresValue(.bytes(value)) }

    /// Whether this is NULL.
    public var isNull: Bool { self.storage == .null }

    /// A short form for logs and tests, such as `42`, `"text"`, `NULL` or `bytea(3 bytes)`.
    public var description: String {
        switch self.storage {
        case .null: "NULL"
        case .text(let text): "\"\(text)\""
        case .integer(let value): "\(value)"
        case .double(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .bytes(let bytes): "bytea(\(bytes.count) bytes)"
        }
    }

    /// The type OID sent to the server (0 lets the server infer it).
    var typeOID: UInt32 {
        switch self.storage {
        case .null, .text: 0
        case .integer: 20
        case .double: 701
        case .bool: 16
        case .bytes: 17
        }
    }

    /// The bytes sent to the server (without a terminating NUL), or `nil` for NULL, and whether they are binary.
    var wireForm: (bytes: [UInt8]?, binary: Bool) {
        switch self.storage {
        case .null: (nil, false)
        case .text(let text): (Array(text.utf8), false)
        case .integer(let value): (Array(String(value).utf8), false)
        case .double(let value):
            if value.isNaN {
                (Array("NaN".utf8), false)
            } else if value.isInfinite {
                (Array((value < 0 ? "-Infinity" : "Infinity").utf8), false)
            } else {
                (Array("\(value)".utf8), false)
            }
        case .bool(let value): (Array((value ? "t" : "f").utf8), false)
        case .bytes(let bytes): (bytes, true)
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral {
    /// A text parameter from a literal.
    ///
    /// - Parameter value: The text.
    public init(stringLiteral value: String) {
        self = .text(value)
    }
}

extension PostgresValue: ExpressibleByIntegerLiteral {
    /// An `int8` parameter from a literal.
    ///
    /// - Parameter value: The integer.
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension PostgresValue: ExpressibleByFloatLiteral {
    /// A `float8` parameter from a literal.
    ///
    /// - Parameter value: The number.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension PostgresValue: ExpressibleByBooleanLiteral {
    /// A `bool` parameter from a literal.
    ///
    /// - Parameter value: The boolean.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension PostgresValue: ExpressibleByNilLiteral {
    /// NULL from `nil`.
    ///
    /// - Parameter nilLiteral: Nothing.
    public init(nilLiteral: ()) {
        self = .null
    }
}
