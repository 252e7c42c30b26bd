// SPDX-License-Identifier: Apache-2.0

import Beacon

/// A JSON value of a server's HTTP API (etcd's gateway, Consul's), parsed from bytes.
///
/// These answers are small and shallow, and every request reads one; this reader and ``WireJSONWriter`` replace
/// `Codable` with Foundation's coders, which cost more CPU per request than libcurl and the rest of a client
/// together. Numbers keep their text: etcd writes 64-bit integers as strings, Consul as numbers, and ``int64(_:)``
/// reads both.
package enum WireJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number, as written.
    case number(String)
    case string(String)
    case array([WireJSON])
    /// Members in document order (etcd's objects have a handful of members, so a scan beats hashing).
    case object([(key: String, value: WireJSON)])

    package static func == (lhs: WireJSON, rhs: WireJSON) -> Bool {
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

    /// Parses a whole document.
    ///
    /// - Parameter bytes: UTF-8 JSON.
    /// - Returns: The value.
    /// - Throws: ``WireJSONError`` naming the byte offset of the problem.
    package static func parse(_ bytes: [UInt8]) throws(WireJSONError) -> WireJSON {
        try bytes.withUnsafeBufferPointer { buffer throws(WireJSONError) in
            var reader = WireJSONReader(buffer)
            return try reader.parseDocument()
        }
    }

    // MARK: Reading members

    /// The member named `key` of an object; `nil` when absent, for `null`, or when this is not an object.
    package subscript(key: String) -> WireJSON? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }
}

/// Why a JSON document or one of its values could not be read.
package struct WireJSONError: Error, CustomStringConvertible, Sendable {
    package var message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { self.message }
}

// MARK: Typed access for the wire types

extension WireJSON {
    /// A string value.
    package func string(_ field: String) throws(WireJSONError) -> String {
        guard case .string(let text) = self else { throw self.mismatch(field, expected: "a string") }
        return text
    }

    /// A boolean value.
    package func bool(_ field: String) throws(WireJSONError) -> Bool {
        guard case .bool(let value) = self else { throw self.mismatch(field, expected: "true or false") }
        return value
    }

    /// A 64-bit integer, written as a decimal string (etcd's way) or as a number.
    package func int64(_ field: String) throws(WireJSONError) -> Int64 {
        switch self {
        case .string(let text), .number(let text):
            if let value = Int64(text) { return value }
            throw WireJSONError(message: "field \(field) is not a 64-bit integer")
        default:
            throw self.mismatch(field, expected: "an integer")
        }
    }

    /// A small integer written as a number (etcd's error codes).
    package func int(_ field: String) throws(WireJSONError) -> Int {
        Int(try self.int64(field))
    }

    /// Bytes written as standard, padded base64.
    package func base64(_ field: String) throws(WireJSONError) -> [UInt8] {
        guard let bytes = Base64.decode(try self.string(field)) else {
            throw WireJSONError(message: "field \(field) is not valid base64")
        }
        return bytes
    }

    /// The elements of an array.
    package func array(_ field: String) throws(WireJSONError) -> [WireJSON] {
        guard case .array(let elements) = self else { throw self.mismatch(field, expected: "an array") }
        return elements
    }

    /// Checks that this is an object (so that a wrong answer is not read as one whose fields are all absent).
    package func object(_ field: String) throws(WireJSONError) -> WireJSON {
        guard case .object = self else { throw self.mismatch(field, expected: "an object") }
        return self
    }

    private func mismatch(_ field: String, expected: String) -> WireJSONError {
        WireJSONError(message: "field \(field) is not \(expected)")
    }
}

/// A recursive-descent reader over a buffer of UTF-8 bytes.
private struct WireJSONReader {
    /// Deeper documents are refused: etcd's answers nest four levels at most.
    static let maximumDepth = 64

    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(WireJSONError) -> WireJSON {
        let value = try self.parseValue(depth: 0)
        self.skipWhitespace()
        guard self.offset == self.bytes.count else { throw self.error("unexpected text after the value") }
        return value
    }

    private func error(_ message: String) -> WireJSONError {
        WireJSONError(message: "\(message) at byte \(self.offset)")
    }

    private mutating func skipWhitespace() {
        while self.offset < self.bytes.count {
            switch self.bytes[self.offset] {
            case 0x20, 0x09, 0x0A, 0x0D: self.offset += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(WireJSONError) -> WireJSON {
        guard depth < Self.maximumDepth else { throw self.error("the document nests too deeply") }
        self.skipWhitespace()
        guard self.offset < self.bytes.count else { throw self.error("unexpected end of the document") }
        switch self.bytes[self.offset] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try self.parseNumber())
        default:
            throw self.error("unexpected character")
        }
    }

    private mutating func expect(_ word: StaticString) throws(WireJSONError) {
        let count = word.utf8CodeUnitCount
        guard self.offset + count <= self.bytes.count else { throw self.error("unexpected end of the document") }
        for index in 0..<count where self.bytes[self.offset + index] != word.utf8Start[index] {
            throw self.error("unexpected character")
        }
        self.offset += count
    }

    private mutating func parseObject(depth: Int) throws(WireJSONError) -> WireJSON {
        self.offset += 1  // {
        var members: [(key: String, value: WireJSON)] = []
        self.skipWhitespace()
        if self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "}") {
            self.offset += 1
            return .object(members)
        }
        members.reserveCapacity(8)  // the gateway's objects: a header (4 members), an entry (6), an answer (2 to 4)
        while true {
            self.skipWhitespace()
            guard self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "\"") else {
                throw self.error("expected a member name")
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: ":") else {
                throw self.error("expected ':'")
            }
            self.offset += 1
            members.append((key, try self.parseValue(depth: depth + 1)))
            self.skipWhitespace()
            guard self.offset < self.bytes.count else { throw self.error("unexpected end of the document") }
            switch self.bytes[self.offset] {
            case UInt8(ascii: ","): self.offset += 1
            case UInt8(ascii: "}"):
                self.offset += 1
                return .object(members)
            default: throw self.error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(WireJSONError) -> WireJSON {
        self.offset += 1  // [
        var elements: [WireJSON] = []
        self.skipWhitespace()
        if self.offset < self.bytes.count, self.bytes[self.offset] == UInt8(ascii: "]") {
            self.offset += 1
            return .array(elements)
        }
        while true {
            elements.append(try self.parseValue(depth: depth + 1))
            self.skipWhitespace()
            guard self.offset < self.bytes.count else { throw self.error("unexpected end of the document") }
            switch self.bytes[self.offset] {
            case UInt8(ascii: ","): self.offset += 1
            case UInt8(ascii: "]"):
                self.offset += 1
                return .array(elements)
            default: throw self.error("expected ',' or ']'")
            }
        }
    }

    private mutating func parseNumber() throws(WireJSONError) -> String {
        let start = self.offset
        while self.offset < self.bytes.count {
            switch self.bytes[self.offset] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                self.offset += 1
            default:
                return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]), as: UTF8.self)
            }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]), as: UTF8.self)
    }

    /// A string starting at the opening quote, decoded as servers' answers are: a lone surrogate escape becomes
    /// U+FFFD, as Foundation's decoder makes it.
    private mutating func parseString() throws(WireJSONError) -> String {
        do {
            return try JSONStringLiteral.decode(self.bytes, at: &self.offset, strict: false)
        } catch {
            switch error {
            case .unterminated: throw self.error("unterminated string")
            case .controlCharacter: throw self.error("a control character in a string")
            case .invalidEscape: throw self.error("an invalid escape")
            default: throw self.error("an invalid \\u escape")
            }
        }
    }
}
