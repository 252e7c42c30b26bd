// SPDX-License-Identifier: Apache-2.0

/// Symfony 5.4's `Lexer`: turns an expression into tokens with the same rules, positions and errors.
struct Lexer {
    private static let space = UInt8(ascii: " ")

    /// Shared punctuation symbols, by byte.
    private static func punctuation(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "("): "("
        case UInt8(ascii: ")"): ")"
        case UInt8(ascii: "["): "["
        case UInt8(ascii: "]"): "]"
        case UInt8(ascii: "{"): "{"
        case UInt8(ascii: "}"): "}"
        case UInt8(ascii: "."): "."
        case UInt8(ascii: ","): ","
        case UInt8(ascii: "?"): "?"
        default: ":"
        }
    }

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
                tokens.append(Token(kind: .punctuation, symbol: punctuation(byte), position: cursor + 1))
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
                tokens.append(Token(kind: .punctuation, symbol: punctuation(byte), position: cursor + 1))
                cursor += 1
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"),
                let length = stringLength(expression, at: cursor)
            {
                let content = Array(expression[(cursor + 1)..<(cursor + length - 1)])
                tokens.append(
                    Token(kind: .string, bytes: stripCSlashes(content), position: cursor + 1)
                )
                cursor += length
            } else if let (symbol, length) = operatorSymbol(expression, at: cursor) {
                tokens.append(Token(kind: .operator, symbol: symbol, position: cursor + 1))
                cursor += length
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "?")
                || byte == UInt8(ascii: ":")
            {
                tokens.append(Token(kind: .punctuation, symbol: punctuation(byte), position: cursor + 1))
                cursor += 1
            } else if isNameStart(byte) {
                var nameEnd = cursor + 1
                while nameEnd < end, isNameByte(expression[nameEnd]) {
                    nameEnd += 1
                }
                tokens.append(
                    Token(kind: .name, bytes: Array(expression[cursor..<nameEnd]), position: cursor + 1)
                )
                cursor = nameEnd
            } else {
                throw .syntax("Unexpected character \"\(character(byte))\".", position: cursor, expression: expression)
            }
        }

        tokens.append(Token(kind: .endOfExpression, position: cursor + 1))

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
        if isInteger, text.count <= 18 {
            // Fits in an Int, and its float value is below PHP_INT_MAX: no need for strtod.
            return (Token(kind: .number, number: .int(saturatingInteger(text)), position: start + 1), cursor - start)
        }
        let double = strtodBytes(text)
        var value = PHPNumber.float(double)
        if isInteger, double <= 9.2233720368547758e18 {
            value = .int(saturatingInteger(text))
        }
        return (Token(kind: .number, number: value, position: start + 1), cursor - start)
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
    private static func operatorSymbol(_ expression: [UInt8], at start: Int) -> (String, Int)? {
        let end = expression.count
        func byte(_ offset: Int) -> UInt8? {
            start + offset < end ? expression[start + offset] : nil
        }
        func word(_ text: String, needsFollower: Bool) -> (String, Int)? {
            let length = text.utf8.count
            guard start + length <= end, expression[start..<(start + length)].elementsEqual(text.utf8) else {
                return nil
            }
            guard start == 0 || expression[start - 1] == space || expression[start - 1] == UInt8(ascii: "(") else {
                return nil
            }
            if needsFollower {
                guard let next = byte(length), next == space || next == UInt8(ascii: "(") else { return nil }
            }
            return (text, length)
        }
        switch expression[start] {
        case UInt8(ascii: "n"):
            return word("not in", needsFollower: true) ?? word("not", needsFollower: true)
        case UInt8(ascii: "a"):
            return word("and", needsFollower: true)
        case UInt8(ascii: "o"):
            return word("or", needsFollower: true)
        case UInt8(ascii: "i"):
            return word("in", needsFollower: true)
        case UInt8(ascii: "m"):
            return word("matches", needsFollower: false)
        case UInt8(ascii: "!"):
            if byte(1) == UInt8(ascii: "=") {
                return byte(2) == UInt8(ascii: "=") ? ("!==", 3) : ("!=", 2)
            }
            return ("!", 1)
        case UInt8(ascii: "="):
            guard byte(1) == UInt8(ascii: "=") else { return nil }
            return byte(2) == UInt8(ascii: "=") ? ("===", 3) : ("==", 2)
        case UInt8(ascii: ">"):
            return byte(1) == UInt8(ascii: "=") ? (">=", 2) : (">", 1)
        case UInt8(ascii: "<"):
            return byte(1) == UInt8(ascii: "=") ? ("<=", 2) : ("<", 1)
        case UInt8(ascii: "*"):
            return byte(1) == UInt8(ascii: "*") ? ("**", 2) : ("*", 1)
        case UInt8(ascii: "."):
            return byte(1) == UInt8(ascii: ".") ? ("..", 2) : nil
        case UInt8(ascii: "&"):
            return byte(1) == UInt8(ascii: "&") ? ("&&", 2) : ("&", 1)
        case UInt8(ascii: "|"):
            return byte(1) == UInt8(ascii: "|") ? ("||", 2) : ("|", 1)
        case UInt8(ascii: "~"): return ("~", 1)
        case UInt8(ascii: "%"): return ("%", 1)
        case UInt8(ascii: "/"): return ("/", 1)
        case UInt8(ascii: "^"): return ("^", 1)
        case UInt8(ascii: "+"): return ("+", 1)
        case UInt8(ascii: "-"): return ("-", 1)
        default: return nil
        }
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
