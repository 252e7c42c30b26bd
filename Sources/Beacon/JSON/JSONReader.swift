// SPDX-License-Identifier: Apache-2.0

/// The package's JSON reader: strict RFC 8259, errors with a 1-based line and column, numbers kept as written,
/// nesting capped at ``maximumDepth``.
///
/// Strings are strict too: a lone surrogate escape and bytes that are not UTF-8 are errors. A UTF-8 byte order mark
/// before the value is skipped. Servers' answers (etcd, Consul), discovery files, template values, configuration
/// arrays and environment variables are all read here.
package struct JSONReader {
    /// Deeper documents are refused rather than exhausting the stack (etcd's answers nest four levels).
    package static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private let rejectsDuplicateKeys: Bool
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    /// How many arrays and objects enclose the value being pulled (``readArray(_:_:)``, ``readObject(_:_:)``).
    private var depth = 0
    /// The line of every value and member name, in reading order, when they are recorded.
    private var lines: [Int]?

    private init(_ bytes: UnsafeBufferPointer<UInt8>, rejectsDuplicateKeys: Bool, recordsLines: Bool) {
        self.bytes = bytes
        self.rejectsDuplicateKeys = rejectsDuplicateKeys
        self.lines = recordsLines ? [] : nil
    }

    /// Reads one value that fills the whole input (white space around it is allowed).
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON.
    ///   - rejectingDuplicateKeys: Whether an object that names a member twice is an error (documents people
    ///     write) rather than kept as it is (answers of servers; readers of members take the first).
    /// - Returns: The value.
    /// - Throws: ``JSONError`` with the line and column of the first problem.
    package static func parse(_ bytes: [UInt8], rejectingDuplicateKeys: Bool = false) throws(JSONError) -> JSONValue {
        try self.read(bytes, rejectsDuplicateKeys: rejectingDuplicateKeys, recordsLines: false).value
    }

    /// Reads a document people write: a member named twice in one object is an error naming the first one's line,
    /// and the line of every value and member name is kept.
    ///
    /// - Parameter bytes: UTF-8 JSON.
    /// - Returns: The value, and the lines where each value and each member name starts, in reading order (a value,
    ///   then for an object each member's name followed by the lines of its value, for an array those of each
    ///   element).
    /// - Throws: ``JSONError`` with the line and column of the first problem.
    package static func parseDocument(_ bytes: [UInt8]) throws(JSONError) -> (value: JSONValue, lines: [Int]) {
        try self.read(bytes, rejectsDuplicateKeys: true, recordsLines: true)
    }

    private static func read(
        _ bytes: [UInt8],
        rejectsDuplicateKeys: Bool,
        recordsLines: Bool
    ) throws(JSONError) -> (value: JSONValue, lines: [Int]) {
        var lines: [Int] = []
        let value = try self.read(bytes, rejectsDuplicateKeys: rejectsDuplicateKeys, recordsLines: recordsLines) {
            reader throws(JSONError) in
            defer { lines = reader.lines ?? [] }
            return try reader.parseValue(depth: 0)
        }
        return (value, lines)
    }

    /// Runs `body` on a reader at the start of the input (after a byte order mark and white space), then checks
    /// that nothing but white space follows what `body` read.
    private static func read<Result>(
        _ bytes: [UInt8],
        rejectsDuplicateKeys: Bool,
        recordsLines: Bool,
        _ body: (inout JSONReader) throws(JSONError) -> Result
    ) throws(JSONError) -> Result {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var reader = JSONReader(buffer, rejectsDuplicateKeys: rejectsDuplicateKeys, recordsLines: recordsLines)
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.offset = 3 }
            reader.skipWhitespace()
            try reader.requireValue()
            let result = try body(&reader)
            reader.skipWhitespace()
            if reader.offset < buffer.count {
                throw reader.error("unexpected \(reader.describeCurrent()) after the end of the JSON value")
            }
            return result
        }
    }

    private var column: Int { self.offset - self.lineStart + 1 }

    private func error(_ message: String) -> JSONError {
        JSONError(message: message, line: self.line, column: self.column)
    }

    private func describeCurrent() -> String {
        guard self.offset < self.bytes.count else { return "end of file" }
        let byte = self.bytes[self.offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    /// Fails at the end of the input, where a value must start.
    private func requireValue() throws(JSONError) {
        guard self.offset < self.bytes.count else { throw self.error("unexpected end of file, expected a value") }
    }

    /// Fails at the end of the input and at a delimiter, where an element or a member's value must start: a syntax
    /// error, rather than the wrong kind of value for a reader that pulls one.
    private func requireNestedValue() throws(JSONError) {
        try self.requireValue()
        switch self.bytes[self.offset] {
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"):
            throw self.error("unexpected \(self.describeCurrent()), expected a value")
        default:
            return
        }
    }

    private func peek(_ byte: UInt8) -> Bool {
        self.offset < self.bytes.count && self.bytes[self.offset] == byte
    }

    private mutating func skipWhitespace() {
        while self.offset < self.bytes.count {
            switch self.bytes[self.offset] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                self.offset += 1
            case UInt8(ascii: "\n"):
                self.offset += 1
                self.line += 1
                self.lineStart = self.offset
            default:
                return
            }
        }
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw self.error("the document is nested too deeply") }
        try self.requireValue()
        self.lines?.append(self.line)
        switch self.bytes[self.offset] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectWord("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectWord("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.parseNumber())
        default: throw self.error("unexpected \(self.describeCurrent()), expected a value")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard self.offset + count <= self.bytes.count,
            (0..<count).allSatisfy({ self.bytes[self.offset + $0] == word.utf8Start[$0] })
        else {
            throw self.error("unexpected \(self.describeCurrent()), expected a value")
        }
        self.offset += count
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        try self.forEachMember { key, reader throws(JSONError) in
            if members.isEmpty {
                members.reserveCapacity(8)  // etcd's objects: a header (4 members), an entry (6), an answer (2 to 4)
            }
            members.append((key, try reader.parseValue(depth: depth + 1)))
        }
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        var elements: [JSONValue] = []
        try self.forEachElement { reader throws(JSONError) in
            elements.append(try reader.parseValue(depth: depth + 1))
        }
        return .array(elements)
    }

    /// The object at the offset, member by member: `member` gets each member's name and the reader at its value,
    /// which it must read whole. Checks duplicate names and records lines when the reader does.
    private mutating func forEachMember(
        _ member: (_ name: String, _ reader: inout JSONReader) throws(JSONError) -> Void
    ) throws(JSONError) {
        self.offset += 1  // {
        self.skipWhitespace()
        if self.peek(UInt8(ascii: "}")) {
            self.offset += 1
            return
        }
        var seen: [String: Int] = [:]
        while true {
            self.skipWhitespace()
            guard self.peek(UInt8(ascii: "\"")) else {
                throw self.error("unexpected \(self.describeCurrent()), expected a member name in double quotes")
            }
            let keyLine = self.line
            let keyColumn = self.column
            let key = try self.parseString()
            if self.rejectsDuplicateKeys {
                if let first = seen[key] {
                    throw JSONError(
                        message: "member \"\(key)\" appears twice in one object (first at line \(first))",
                        line: keyLine,
                        column: keyColumn
                    )
                }
                seen[key] = keyLine
            }
            self.lines?.append(keyLine)
            self.skipWhitespace()
            guard self.peek(UInt8(ascii: ":")) else {
                throw self.error("unexpected \(self.describeCurrent()), expected ':' after a member name")
            }
            self.offset += 1
            self.skipWhitespace()
            try self.requireNestedValue()
            try member(key, &self)
            self.skipWhitespace()
            if self.peek(UInt8(ascii: ",")) {
                self.offset += 1
            } else if self.peek(UInt8(ascii: "}")) {
                self.offset += 1
                return
            } else {
                throw self.error("unexpected \(self.describeCurrent()), expected ',' or '}' in an object")
            }
        }
    }

    /// The array at the offset, element by element: `element` gets the reader at each element, which it must read
    /// whole.
    private mutating func forEachElement(_ element: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        self.offset += 1  // [
        self.skipWhitespace()
        if self.peek(UInt8(ascii: "]")) {
            self.offset += 1
            return
        }
        while true {
            self.skipWhitespace()
            try self.requireNestedValue()
            try element(&self)
            self.skipWhitespace()
            if self.peek(UInt8(ascii: ",")) {
                self.offset += 1
            } else if self.peek(UInt8(ascii: "]")) {
                self.offset += 1
                return
            } else {
                throw self.error("unexpected \(self.describeCurrent()), expected ',' or ']' in an array")
            }
        }
    }

    /// A number: `-`? (`0` | digits) (`.` digits)? ([eE] [+-]? digits)?, kept as written.
    private mutating func parseNumber() throws(JSONError) -> String {
        let start = self.offset
        if self.peek(UInt8(ascii: "-")) { self.offset += 1 }
        if self.peek(UInt8(ascii: "0")) {
            self.offset += 1
        } else if self.skipDigits() == 0 {
            throw self.error("a number needs digits")
        }
        if self.peek(UInt8(ascii: ".")) {
            self.offset += 1
            if self.skipDigits() == 0 { throw self.error("a number needs digits after '.'") }
        }
        if self.peek(UInt8(ascii: "e")) || self.peek(UInt8(ascii: "E")) {
            self.offset += 1
            if self.peek(UInt8(ascii: "+")) || self.peek(UInt8(ascii: "-")) { self.offset += 1 }
            if self.skipDigits() == 0 { throw self.error("a number needs digits in its exponent") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]), as: UTF8.self)
    }

    /// Moves past decimal digits.
    ///
    /// - Returns: How many there were.
    private mutating func skipDigits() -> Int {
        let start = self.offset
        while self.offset < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.offset])
        {
            self.offset += 1
        }
        return self.offset - start
    }

    // MARK: Strings

    /// The string whose opening quote is at the offset (RFC 8259 section 7); a string without escapes is decoded
    /// straight from the input.
    private mutating func parseString() throws(JSONError) -> String {
        // Locals rather than members in the loop: it runs over every byte of every string.
        let bytes = self.bytes
        let start = self.offset + 1  // after the "
        var index = start
        var bits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            // Most bytes are neither a quote (0x22), a backslash (0x5C) nor a control character: two tests.
            if byte > UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                bits |= byte
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                self.offset = index + 1
                let content = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII needs no validation (and the validating initialiser costs several times more).
                return bits < 0x80 ? String(decoding: content, as: UTF8.self) : try self.text(content)
            } else if byte >= 0x20 && byte != UInt8(ascii: "\\") {
                index += 1
            } else {
                break
            }
        }
        self.offset = index
        guard index < bytes.count else { throw self.error("unterminated string") }
        guard bytes[index] == UInt8(ascii: "\\") else {
            throw self.error("a control character (or a line break) inside a string must be escaped")
        }
        return try self.parseEscapedString(from: start)
    }

    /// The rest of a string from its first backslash (at the offset); `start` is where its content starts.
    private mutating func parseEscapedString(from start: Int) throws(JSONError) -> String {
        var result = Array(UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]))
        while self.offset < self.bytes.count {
            let byte = self.bytes[self.offset]
            switch byte {
            case UInt8(ascii: "\""):
                self.offset += 1
                return try result.withUnsafeBufferPointer { content throws(JSONError) in try self.text(content) }
            case UInt8(ascii: "\\"):
                self.offset += 1
                try self.parseEscape(into: &result)
            case 0x00..<0x20:
                throw self.error("a control character (or a line break) inside a string must be escaped")
            default:
                result.append(byte)
                self.offset += 1
            }
        }
        throw self.error("unterminated string")
    }

    /// Decodes the escape whose letter is at the offset (the backslash is behind it).
    private mutating func parseEscape(into result: inout [UInt8]) throws(JSONError) {
        guard self.offset < self.bytes.count else { throw self.error("unterminated string") }
        let escape = self.bytes[self.offset]
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
        case UInt8(ascii: "b"): result.append(0x08)
        case UInt8(ascii: "f"): result.append(0x0C)
        case UInt8(ascii: "n"): result.append(0x0A)
        case UInt8(ascii: "r"): result.append(0x0D)
        case UInt8(ascii: "t"): result.append(0x09)
        case UInt8(ascii: "u"):
            self.offset += 1
            var scalar = try self.hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard self.peek(UInt8(ascii: "\\")), self.offset + 1 < self.bytes.count,
                    self.bytes[self.offset + 1] == UInt8(ascii: "u")
                else {
                    throw self.error("a high surrogate escape must be followed by a low surrogate escape")
                }
                self.offset += 2
                let low = try self.hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw self.error("invalid low surrogate escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let character = Unicode.Scalar(scalar) else {
                throw self.error("a low surrogate escape without a high surrogate")
            }
            result.append(contentsOf: String(character).utf8)
            return
        default:
            let shown =
                escape >= 0x20 && escape < 0x7F
                ? String(Character(Unicode.Scalar(escape))) : "byte 0x\(String(escape, radix: 16))"
            throw self.error("invalid escape sequence '\\\(shown)' in a string")
        }
        self.offset += 1
    }

    /// Four hexadecimal digits at the offset, which moves past them.
    private mutating func hex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard self.offset < self.bytes.count else {
                throw self.error("\\u must be followed by four hexadecimal digits")
            }
            let byte = self.bytes[self.offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("\\u must be followed by four hexadecimal digits")
            }
            value = value << 4 | UInt32(digit)
            self.offset += 1
        }
        return value
    }

    private func text(_ content: UnsafeBufferPointer<UInt8>) throws(JSONError) -> String {
        guard let text = String(validating: content, as: UTF8.self) else {
            throw self.error("the string before this point is not valid UTF-8")
        }
        return text
    }
}

// MARK: Reading without a tree

extension JSONReader {
    /// Reads one value that fills the whole input by pulling it piece by piece with `body` (``readArray(_:_:)``,
    /// ``readObject(_:_:)``, ``readString(_:)`` and the like), without building a ``JSONValue`` tree: for answers
    /// read on every request, where the tree's allocations cost more than the reading. Objects may name a member
    /// twice, as in ``parse(_:rejectingDuplicateKeys:)``; `body` decides which one counts.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON.
    ///   - body: Reads the value, whole, from the reader it is given.
    /// - Returns: What `body` returned.
    /// - Throws: ``JSONError`` with the line and column of the first problem, or the error `body` threw.
    package static func read<Result>(
        _ bytes: [UInt8],
        _ body: (inout JSONReader) throws(JSONError) -> Result
    ) throws(JSONError) -> Result {
        try self.read(bytes, rejectsDuplicateKeys: false, recordsLines: false, body)
    }

    /// Reads an array, calling `element` with the reader at each of its elements, which `element` must read whole.
    ///
    /// - Parameters:
    ///   - field: What the array is, for the error.
    ///   - element: Reads one element.
    /// - Throws: ``JSONError`` naming `field` when the value is not an array, or a syntax error.
    package mutating func readArray(
        _ field: String,
        _ element: (inout JSONReader) throws(JSONError) -> Void
    ) throws(JSONError) {
        guard self.peek(UInt8(ascii: "[")) else { throw self.mismatch(field, expected: "an array") }
        try self.nested { reader throws(JSONError) in try reader.forEachElement(element) }
    }

    /// Reads an object, calling `member` with each member's name and the reader at its value, which `member` must
    /// read whole (``skipValue()`` for members it does not need).
    ///
    /// - Parameters:
    ///   - field: What the object is, for the error.
    ///   - member: Reads one member's value.
    /// - Throws: ``JSONError`` naming `field` when the value is not an object, or a syntax error.
    package mutating func readObject(
        _ field: String,
        _ member: (_ name: String, _ reader: inout JSONReader) throws(JSONError) -> Void
    ) throws(JSONError) {
        guard self.peek(UInt8(ascii: "{")) else { throw self.mismatch(field, expected: "an object") }
        try self.nested { reader throws(JSONError) in try reader.forEachMember(member) }
    }

    /// Reads a string.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The string.
    /// - Throws: ``JSONError`` naming the field when the value is not a string.
    package mutating func readString(_ field: String) throws(JSONError) -> String {
        guard self.peek(UInt8(ascii: "\"")) else { throw self.mismatch(field, expected: "a string") }
        return try self.parseString()
    }

    /// Reads a 64-bit integer, written as a decimal string (etcd's way) or as a number.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The integer.
    /// - Throws: ``JSONError`` naming the field when the value is not such an integer.
    package mutating func readInt64(_ field: String) throws(JSONError) -> Int64 {
        let start = (line: self.line, column: self.column)
        let text: String
        switch self.offset < self.bytes.count ? self.bytes[self.offset] : 0 {
        case UInt8(ascii: "\""): text = try self.parseString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): text = try self.parseNumber()
        default: throw self.mismatch(field, expected: "an integer")
        }
        guard let value = Int64(text) else {
            throw JSONError(message: "field \(field) is not a 64-bit integer", line: start.line, column: start.column)
        }
        return value
    }

    /// Reads bytes written as a string of standard, padded base64, decoded straight from the input when the string
    /// has no escapes.
    ///
    /// - Parameter field: The field's name, for the error.
    /// - Returns: The bytes.
    /// - Throws: ``JSONError`` naming the field when the value is not a string of base64.
    package mutating func readBase64(_ field: String) throws(JSONError) -> [UInt8] {
        guard self.peek(UInt8(ascii: "\"")) else { throw self.mismatch(field, expected: "a string") }
        let start = (line: self.line, column: self.column)
        let contentStart = self.offset + 1
        var end = contentStart
        while end < self.bytes.count, self.bytes[end] != UInt8(ascii: "\""), self.bytes[end] != UInt8(ascii: "\\") {
            end += 1
        }
        let decoded: [UInt8]?
        if end < self.bytes.count, self.bytes[end] == UInt8(ascii: "\"") {
            decoded = Base64.decode(utf8: UnsafeBufferPointer(rebasing: self.bytes[contentStart..<end]))
            self.offset = end + 1
        } else {
            decoded = Base64.decode(try self.parseString())
        }
        guard let decoded else {
            throw JSONError(message: "field \(field) is not valid base64", line: start.line, column: start.column)
        }
        return decoded
    }

    /// Reads `null` if the value is `null`.
    ///
    /// - Returns: Whether the value was `null` (and was read); `false` leaves the reader where it was.
    package mutating func readNull() -> Bool {
        guard self.peek(UInt8(ascii: "n")), (try? self.expectWord("null")) != nil else { return false }
        return true
    }

    /// Reads a value of any kind as a tree.
    ///
    /// - Returns: The value.
    /// - Throws: ``JSONError`` for a syntax error.
    package mutating func readValue() throws(JSONError) -> JSONValue {
        try self.parseValue(depth: self.depth)
    }

    /// Reads a value of any kind and drops it.
    ///
    /// - Throws: ``JSONError`` for a syntax error.
    package mutating func skipValue() throws(JSONError) {
        _ = try self.readValue()
    }

    /// Runs `body` one level deeper, refusing documents nested deeper than ``maximumDepth``.
    private mutating func nested(_ body: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        guard self.depth < Self.maximumDepth else { throw self.error("the document is nested too deeply") }
        self.depth += 1
        defer { self.depth -= 1 }
        try body(&self)
    }

    /// The error for a value of the wrong kind, at its position.
    private func mismatch(_ field: String, expected: String) -> JSONError {
        self.error("field \(field) is not \(expected)")
    }
}
