// SPDX-License-Identifier: Apache-2.0

/// A strict JSON parser (RFC 8259) that reports the line and column of the first problem.
///
/// Numbers are kept as the text they were written as, since discovery values are text.
package struct JSONDocumentParser {
    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var lineStart = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses one JSON value that fills the whole input (white space around it is allowed).
    package static func parse(_ bytes: [UInt8]) throws(DocumentTree.SyntaxError) -> DocumentTree {
        var parser = JSONDocumentParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.offset = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.offset < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    private var column: Int { self.offset - self.lineStart + 1 }

    private func error(_ message: String) -> DocumentTree.SyntaxError {
        DocumentTree.SyntaxError(message: message, line: self.line, column: self.column)
    }

    private func describeCurrent() -> String {
        guard self.offset < self.bytes.count else { return "end of file" }
        let byte = self.bytes[self.offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
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

    private mutating func parseValue(depth: Int) throws(DocumentTree.SyntaxError) -> DocumentTree {
        guard depth < 512 else { throw self.error("the document is nested too deeply") }
        guard self.offset < self.bytes.count else { throw self.error("unexpected end of file, expected a value") }
        let line = self.line
        switch self.bytes[self.offset] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .text(try self.parseString(), line: line)
        case UInt8(ascii: "t"):
            try self.expectWord("true")
            return .text("true", line: line)
        case UInt8(ascii: "f"):
            try self.expectWord("false")
            return .text("false", line: line)
        case UInt8(ascii: "n"):
            try self.expectWord("null")
            return .null(line: line)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .text(try self.parseNumber(), line: line)
        default: throw self.error("unexpected \(self.describeCurrent()), expected a value")
        }
    }

    private mutating func expectWord(_ word: String) throws(DocumentTree.SyntaxError) {
        let expected = Array(word.utf8)
        guard self.bytes[self.offset...].starts(with: expected) else {
            throw self.error("unexpected \(self.describeCurrent()), expected a value")
        }
        self.offset += expected.count
    }

    private mutating func parseObject(depth: Int) throws(DocumentTree.SyntaxError) -> DocumentTree {
        let line = self.line
        self.offset += 1
        var members: [(key: String, value: DocumentTree, line: Int)] = []
        var seen: [String: Int] = [:]
        self.skipWhitespace()
        if self.peek(UInt8(ascii: "}")) {
            self.offset += 1
            return .map(members, line: line)
        }
        while true {
            self.skipWhitespace()
            guard self.peek(UInt8(ascii: "\"")) else {
                throw self.error("unexpected \(self.describeCurrent()), expected a member name in double quotes")
            }
            let keyLine = self.line
            let keyColumn = self.column
            let key = try self.parseString()
            if let first = seen[key] {
                throw DocumentTree.SyntaxError(
                    message: "member \"\(key)\" appears twice in one object (first at line \(first))",
                    line: keyLine,
                    column: keyColumn
                )
            }
            seen[key] = keyLine
            self.skipWhitespace()
            guard self.peek(UInt8(ascii: ":")) else {
                throw self.error("unexpected \(self.describeCurrent()), expected ':' after a member name")
            }
            self.offset += 1
            self.skipWhitespace()
            members.append((key, try self.parseValue(depth: depth + 1), keyLine))
            self.skipWhitespace()
            if self.peek(UInt8(ascii: ",")) {
                self.offset += 1
            } else if self.peek(UInt8(ascii: "}")) {
                self.offset += 1
                return .map(members, line: line)
            } else {
                throw self.error("unexpected \(self.describeCurrent()), expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(DocumentTree.SyntaxError) -> DocumentTree {
        let line = self.line
        self.offset += 1
        var items: [DocumentTree] = []
        self.skipWhitespace()
        if self.peek(UInt8(ascii: "]")) {
            self.offset += 1
            return .list(items, line: line)
        }
        while true {
            self.skipWhitespace()
            items.append(try self.parseValue(depth: depth + 1))
            self.skipWhitespace()
            if self.peek(UInt8(ascii: ",")) {
                self.offset += 1
            } else if self.peek(UInt8(ascii: "]")) {
                self.offset += 1
                return .list(items, line: line)
            } else {
                throw self.error("unexpected \(self.describeCurrent()), expected ',' or ']' in an array")
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool {
        self.offset < self.bytes.count && self.bytes[self.offset] == byte
    }

    private mutating func parseNumber() throws(DocumentTree.SyntaxError) -> String {
        let start = self.offset
        func digits(_ parser: inout JSONDocumentParser) -> Int {
            var count = 0
            while parser.offset < parser.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.offset])
            {
                parser.offset += 1
                count += 1
            }
            return count
        }
        if self.peek(UInt8(ascii: "-")) { self.offset += 1 }
        if self.peek(UInt8(ascii: "0")) {
            self.offset += 1
        } else if digits(&self) == 0 {
            throw self.error("a number needs digits")
        }
        if self.peek(UInt8(ascii: ".")) {
            self.offset += 1
            if digits(&self) == 0 { throw self.error("a number needs digits after '.'") }
        }
        if self.peek(UInt8(ascii: "e")) || self.peek(UInt8(ascii: "E")) {
            self.offset += 1
            if self.peek(UInt8(ascii: "+")) || self.peek(UInt8(ascii: "-")) { self.offset += 1 }
            if digits(&self) == 0 { throw self.error("a number needs digits in its exponent") }
        }
        return String(decoding: self.bytes[start..<self.offset], as: UTF8.self)
    }

    private mutating func parseString() throws(DocumentTree.SyntaxError) -> String {
        var offset = self.offset
        do {
            let text = try self.bytes.withUnsafeBufferPointer { bytes throws(JSONStringLiteral.Problem) in
                try JSONStringLiteral.decode(bytes, at: &offset, strict: true)
            }
            self.offset = offset
            return text
        } catch {
            self.offset = offset
            throw self.error(Self.message(for: error))
        }
    }

    private static func message(for problem: JSONStringLiteral.Problem) -> String {
        switch problem {
        case .unterminated: "unterminated string"
        case .controlCharacter: "a control character (or a line break) inside a string must be escaped"
        case .invalidEscape(let byte): "invalid escape sequence '\\\(Character(Unicode.Scalar(byte)))' in a string"
        case .invalidHexDigits: "\\u must be followed by four hexadecimal digits"
        case .missingLowSurrogate: "a high surrogate escape must be followed by a low surrogate escape"
        case .invalidLowSurrogate: "invalid low surrogate escape"
        case .loneLowSurrogate: "a low surrogate escape without a high surrogate"
        case .invalidUTF8: "the string before this point is not valid UTF-8"
        }
    }
}
