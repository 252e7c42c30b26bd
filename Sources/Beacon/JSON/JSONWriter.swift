// SPDX-License-Identifier: Apache-2.0

/// The package's JSON writer, for requests to a server's HTTP API (etcd's gateway, Consul's): objects of strings,
/// base64 bytes, integers (as strings, the form etcd's own clients send, or as numbers), booleans, string lists and
/// maps, and nested objects or arrays. ``JSONReader`` reads back what it writes.
///
/// Members are written in the order of the calls; a `nil` optional writes nothing, as both servers treat an absent
/// field as its zero value.
package struct JSONWriter {
    /// The document so far.
    package private(set) var bytes: [UInt8] = []
    /// Whether the innermost open object or array has no member yet (no comma before the next one).
    private var isFirst = true

    /// Creates an empty document.
    package init() {
        self.bytes.reserveCapacity(128)
    }

    /// Writes an object whose members `body` writes.
    package mutating func object(_ body: (inout JSONWriter) -> Void) {
        self.bytes.append(UInt8(ascii: "{"))
        self.isFirst = true
        body(&self)
        self.bytes.append(UInt8(ascii: "}"))
        self.isFirst = false
    }

    /// Writes an object member whose value is an object.
    package mutating func object(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        self.key(key)
        self.object(body)
    }

    /// Writes an array member whose elements are objects.
    package mutating func array<Element>(
        _ key: StaticString,
        _ elements: [Element],
        _ body: (inout JSONWriter, Element) -> Void
    ) {
        self.key(key)
        self.bytes.append(UInt8(ascii: "["))
        self.isFirst = true
        for element in elements {
            self.separate()
            self.object { body(&$0, element) }
        }
        self.bytes.append(UInt8(ascii: "]"))
        self.isFirst = false
    }

    /// Writes a string member.
    package mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        self.quoted(value)
    }

    /// Writes a member holding bytes as padded base64.
    package mutating func base64(_ key: StaticString, _ value: [UInt8]?) {
        guard let value else { return }
        self.key(key)
        self.bytes.append(UInt8(ascii: "\""))
        Base64.encode(value, into: &self.bytes)
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Writes a 64-bit integer member as a decimal string.
    package mutating func int64(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: String(value).utf8)
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Writes an integer member as a JSON number (Consul's form).
    package mutating func number(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a member holding a list of strings.
    package mutating func strings(_ key: StaticString, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        self.bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.quoted(value)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    /// Writes a member holding an object of strings, its members sorted by name.
    package mutating func stringMap(_ key: StaticString, _ values: [String: String]?) {
        guard let values else { return }
        self.key(key)
        self.bytes.append(UInt8(ascii: "{"))
        for (index, member) in values.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.quoted(member.key)
            self.bytes.append(UInt8(ascii: ":"))
            self.quoted(member.value)
        }
        self.bytes.append(UInt8(ascii: "}"))
    }

    /// Writes a boolean member.
    package mutating func bool(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        self.bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    private mutating func separate() {
        if !self.isFirst {
            self.bytes.append(UInt8(ascii: ","))
        }
        self.isFirst = false
    }

    private mutating func key(_ key: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
    }

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8.
    private mutating func quoted(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): self.bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): self.bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): self.bytes.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: #"\u00"#.utf8)
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0x0F)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
