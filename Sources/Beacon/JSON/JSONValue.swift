// SPDX-License-Identifier: Apache-2.0

/// A JSON value (RFC 8259), as ``JSONReader`` reads it: the one JSON model of the package.
///
/// Numbers keep the text they were written as: discovery values are text, etcd writes 64-bit integers as strings
/// and Consul as numbers (``int64(_:)`` reads both), and no precision is lost on the way.
package enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as written.
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object's members in document order (objects on the wire have a handful, so a scan beats hashing).
    case object([(key: String, value: JSONValue)])

    /// Whether two values are the same, objects comparing their members in order.
    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Reads a whole document with ``JSONReader``, allowing an object to name a member twice.
    ///
    /// - Parameter bytes: UTF-8 JSON.
    /// - Returns: The value.
    /// - Throws: ``JSONError`` with the line and column of the problem.
    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try JSONReader.parse(bytes)
    }

    /// The member named `key` of an object; `nil` when absent, for `null`, or when this is not an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    /// The text of a string, number or boolean (`true`, `false`); `nil` for `null`, arrays and objects.
    package var scalarText: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .bool(let value): value ? "true" : "false"
        case .null, .array, .object: nil
        }
    }
}

/// Why a JSON document could not be read, or why one of its values is not what a reader expected.
///
/// Messages name positions and fields, never the text of a value (which may be a secret).
package struct JSONError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    package var message: String
    /// The 1-based line of a syntax error; `nil` for a value of the wrong type.
    package var line: Int?
    /// The 1-based column (in bytes) of a syntax error; `nil` for a value of the wrong type.
    package var column: Int?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - message: What is wrong.
    ///   - line: The 1-based line of a syntax error.
    ///   - column: The 1-based column of a syntax error.
    package init(message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// The message, followed by the position when there is one.
    package var description: String {
        guard let line else { return self.message }
        return "\(self.message) at line \(line)" + (self.column.map { ", column \($0)" } ?? "")
    }
}

// MARK: Typed access

extension JSONValue {
    /// A string value.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The string.
    /// - Throws: ``JSONError`` naming the field when this is not a string.
    package func string(_ field: String) throws(JSONError) -> String {
        guard case .string(let text) = self else { throw self.mismatch(field, expected: "a string") }
        return text
    }

    /// A boolean value.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The boolean.
    /// - Throws: ``JSONError`` naming the field when this is not `true` or `false`.
    package func bool(_ field: String) throws(JSONError) -> Bool {
        guard case .bool(let value) = self else { throw self.mismatch(field, expected: "true or false") }
        return value
    }

    /// A 64-bit integer, written as a decimal string (etcd's way) or as a number.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The integer.
    /// - Throws: ``JSONError`` naming the field when this is not such an integer.
    package func int64(_ field: String) throws(JSONError) -> Int64 {
        switch self {
        case .string(let text), .number(let text):
            if let value = Int64(text) { return value }
            throw JSONError(message: "field \(field) is not a 64-bit integer")
        default:
            throw self.mismatch(field, expected: "an integer")
        }
    }

    /// An integer written as a number or a decimal string (etcd's error codes, Consul's ports).
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The integer.
    /// - Throws: ``JSONError`` naming the field when this is not such an integer.
    package func int(_ field: String) throws(JSONError) -> Int {
        Int(try self.int64(field))
    }

    /// Bytes written as standard, padded base64.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The bytes.
    /// - Throws: ``JSONError`` naming the field when this is not a string of base64.
    package func base64(_ field: String) throws(JSONError) -> [UInt8] {
        guard let bytes = Base64.decode(try self.string(field)) else {
            throw JSONError(message: "field \(field) is not valid base64")
        }
        return bytes
    }

    /// The elements of an array.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The elements.
    /// - Throws: ``JSONError`` naming the field when this is not an array.
    package func array(_ field: String) throws(JSONError) -> [JSONValue] {
        guard case .array(let elements) = self else { throw self.mismatch(field, expected: "an array") }
        return elements
    }

    /// Checks that this is an object (so that a wrong answer is not read as one whose fields are all absent).
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: This object.
    /// - Throws: ``JSONError`` naming the field when this is not an object.
    package func object(_ field: String) throws(JSONError) -> JSONValue {
        guard case .object = self else { throw self.mismatch(field, expected: "an object") }
        return self
    }

    private func mismatch(_ field: String, expected: String) -> JSONError {
        JSONError(message: "field \(field) is not \(expected)")
    }
}
