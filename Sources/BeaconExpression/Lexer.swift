// SPDX-License-Identifier: Apache-2.0

/// Symfony 5.4's `Lexer`: turns an expression into tokens with the same rules, positions and errors.
struct Lexer {
    private static let space = UInt8(ascii: " ")

    /// Word operators with Symfony's boundaries, in the order its operator regex tries them; `true` means the
    /// operator also needs a following space or `(`.
    private static let operators: [(text: [UInt8], isWord: Bool, needsFollower: Bool)] = [
        ("not in", true, true), ("!==", false, false), ("not", true, true), ("and", true, true),
        ("===", false, false), (">=", false, false), ("or", true, true), ("<=", false, false),
        ("**", false, false), ("..", false, false), ("in", true, true), ("&&", false, false),
        ("||", false, false), ("matches", true, false), ("==", false, false), ("!=", false, false),
        ("*", false, false), ("~", false, false), ("%", false, false), ("/", false, false),
        (">", false, false), ("|", false, false), ("!", false, false), ("^", false, false),
        ("&", false, false), ("+", false, false), ("<", false, false), ("-", false, false),
    ].map { (Array($0.0.utf8), $0.1, $0.2) }

    /// Replaces `\r \n \t \v \f` with spaces, as Symfony does before lexing.
    static func normalize(_ expression: [UInt8]) -> [UInt8] {
        expression.map { byte in
            (byte == 0x0D || byte == 0x0A || byte == 0x09 || byte == 0x0B || byte == 0x0C) ? space : byte
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte >= 0x7F
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || isDigit(byte)
    }

    /// Tokenizes a normalised expression.
    static func tokenize(_ expression: [UInt8]) throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        var brackets: [(bracket: UInt8, position: Int)] = []
        var cursor = 0
        let end = expression.count

        while cursor < end {
            let byte = expression[cursor]
            if byte == space {
                cursor += 1
                continue
            }
            if isDigit(byte) {
                let (token, length) = number(expression, at: cursor)
                tokens.append(token)
                cursor += length
            } else if byte == UInt8(ascii: "(") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                brackets.append((byte, cursor))
                tokens.append(Token(kind: .punctuation, bytes: [byte], number: nil, position: cursor + 1))
                cursor += 1
            } else if byte == UInt8(ascii: ")") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                guard let open = brackets.popLast() else {
                    throw .syntax("Unexpected \"\(character(byte))\".", position: cursor, expression: expression)
                }
                let expected: UInt8
                switch open.bracket {
                case UInt8(ascii: "("): expected = UInt8(ascii: ")")
                case UInt8(ascii: "["): expected = UInt8(ascii: "]")
                default: expected = UInt8(ascii: "}")
                }
                if byte != expected {
                    throw .syntax(
                        "Unclosed \"\(character(open.bracket))\".",
                        position: open.position,
                        expression: expression
                    )
                }
                tokens.append(Token(kind: .punctuation, bytes: [byte], number: nil, position: cursor + 1))
                cursor += 1
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"),
                let length = stringLength(expression, at: cursor)
            {
                let content = Array(expression[(cursor + 1)..<(cursor + length - 1)])
                tokens.append(
                    Token(kind: .string, bytes: stripCSlashes(content), number: nil, position: cursor + 1)
                )
                cursor += length
            } else if let length = operatorLength(expression, at: cursor) {
                tokens.append(
                    Token(
                        kind: .operator,
                        bytes: Array(expression[cursor..<(cursor + length)]),
                        number: nil,
                        position: cursor + 1
                    )
                )
                cursor += length
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "?")
                || byte == UInt8(ascii: ":")
            {
                tokens.append(Token(kind: .punctuation, bytes: [byte], number: nil, position: cursor + 1))
                cursor += 1
            } else if isNameStart(byte) {
                var nameEnd = cursor + 1
                while nameEnd < end, isNameByte(expression[nameEnd]) {
                    nameEnd += 1
                }
                tokens.append(
                    Token(kind: .name, bytes: Array(expression[cursor..<nameEnd]), number: nil, position: cursor + 1)
                )
                cursor = nameEnd
            } else {
                throw .syntax("Unexpected character \"\(character(byte))\".", position: cursor, expression: expression)
            }
        }

        tokens.append(Token(kind: .endOfExpression, bytes: [], number: nil, position: cursor + 1))

        if let open = brackets.popLast() {
            throw .syntax("Unclosed \"\(character(open.bracket))\".", position: open.position, expression: expression)
        }
        return tokens
    }

    private static func character(_ byte: UInt8) -> String {
        String(decoding: [byte], as: UTF8.self)
    }

    /// `[0-9]+(?:\.[0-9]+)?([Ee][\+\-][0-9]+)?`: an int while `(float)literal <= PHP_INT_MAX`, else a float.
    private static func number(_ expression: [UInt8], at start: Int) -> (Token, Int) {
        let end = expression.count
        var cursor = start
        while cursor < end, isDigit(expression[cursor]) {
            cursor += 1
        }
        var isInteger = true
        if cursor + 1 < end, expression[cursor] == UInt8(ascii: "."), isDigit(expression[cursor + 1]) {
            isInteger = false
            cursor += 1
            while cursor < end, isDigit(expression[cursor]) {
                cursor += 1
            }
        }
        if cursor + 2 < end, expression[cursor] == UInt8(ascii: "e") || expression[cursor] == UInt8(ascii: "E"),
            expression[cursor + 1] == UInt8(ascii: "+") || expression[cursor + 1] == UInt8(ascii: "-"),
            isDigit(expression[cursor + 2])
        {
            isInteger = false
            cursor += 2
            while cursor < end, isDigit(expression[cursor]) {
                cursor += 1
            }
        }
        let text = expression[start..<cursor]
        let double = strtodBytes(text)
        var value = PHPNumber.float(double)
        if isInteger, double <= 9.2233720368547758e18 {
            value = .int(saturatingInteger(text))
        }
        return (Token(kind: .number, bytes: Array(text), number: value, position: start + 1), cursor - start)
    }

    /// PHP's `(int)"digits"`: saturates at `PHP_INT_MAX`.
    private static func saturatingInteger(_ digits: ArraySlice<UInt8>) -> Int {
        var value = 0
        for digit in digits {
            let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(Int(digit - 0x30))
            if overflow1 || overflow2 { return Int.max }
            value = sum
        }
        return value
    }

    /// The length of a quoted string starting at `start` (backslash escapes any byte), or `nil` if unterminated.
    private static func stringLength(_ expression: [UInt8], at start: Int) -> Int? {
        let quote = expression[start]
        var cursor = start + 1
        let end = expression.count
        while cursor < end {
            let byte = expression[cursor]
            if byte == UInt8(ascii: "\\") {
                guard cursor + 1 < end else { return nil }
                cursor += 2
                continue
            }
            if byte == quote {
                return cursor - start + 1
            }
            cursor += 1
        }
        return nil
    }

    /// Symfony's operator regex at `start`, trying alternatives in its order.
    private static func operatorLength(_ expression: [UInt8], at start: Int) -> Int? {
        let end = expression.count
        let precededByBoundary =
            start == 0 || expression[start - 1] == space || expression[start - 1] == UInt8(ascii: "(")
        for candidate in operators {
            let length = candidate.text.count
            guard start + length <= end else { continue }
            guard expression[start] == candidate.text[0],
                expression[start..<(start + length)].elementsEqual(candidate.text)
            else { continue }
            if candidate.isWord {
                guard precededByBoundary else { continue }
                if candidate.needsFollower {
                    guard start + length < end else { continue }
                    let next = expression[start + length]
                    guard next == space || next == UInt8(ascii: "(") else { continue }
                }
            }
            return length
        }
        return nil
    }

    /// PHP's `stripcslashes()`.
    static func stripCSlashes(_ source: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(source.count)
        var index = 0
        let end = source.count
        func isHex(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        }
        func hexValue(_ byte: UInt8) -> UInt8 {
            if isDigit(byte) { return byte - 0x30 }
            if byte >= 0x61 { return byte - 0x61 + 10 }
            return byte - 0x41 + 10
        }
        while index < end {
            let byte = source[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < end else {
                output.append(byte)
                index += 1
                continue
            }
            index += 1
            let escaped = source[index]
            switch escaped {
            case UInt8(ascii: "n"):
                output.append(0x0A)
                index += 1
            case UInt8(ascii: "r"):
                output.append(0x0D)
                index += 1
            case UInt8(ascii: "a"):
                output.append(0x07)
                index += 1
            case UInt8(ascii: "t"):
                output.append(0x09)
                index += 1
            case UInt8(ascii: "v"):
                output.append(0x0B)
                index += 1
            case UInt8(ascii: "b"):
                output.append(0x08)
                index += 1
            case UInt8(ascii: "f"):
                output.append(0x0C)
                index += 1
            case UInt8(ascii: "\\"):
                output.append(0x5C)
                index += 1
            case UInt8(ascii: "x") where index + 1 < end && isHex(source[index + 1]):
                var value = hexValue(source[index + 1])
                index += 2
                if index < end, isHex(source[index]) {
                    value = value &* 16 &+ hexValue(source[index])
                    index += 1
                }
                output.append(value)
            default:
                var digits = 0
                var value = 0
                while index < end, digits < 3, source[index] >= 0x30, source[index] <= 0x37 {
                    value = value * 8 + Int(source[index] - 0x30)
                    digits += 1
                    index += 1
                }
                if digits > 0 {
                    output.append(UInt8(truncatingIfNeeded: value))
                } else {
                    output.append(escaped)
                    index += 1
                }
            }
        }
        return output
    }
}
