// SPDX-License-Identifier: Apache-2.0

/// Finds the literal `service("id")` and `parameter("name")` calls of a parsed expression.
///
/// It reads Symfony's dump of the syntax tree (`ParsedExpression.description`), where every string constant is
/// double-quoted with `"` and `\` escaped, so text inside strings is never mistaken for a call, and a method
/// named `service` is preceded by a `.`.
enum ExpressionReferences {
    struct References {
        var services: [String] = []
        var parameters: [String] = []
    }

    static func scan(_ dump: String) -> References {
        let bytes = Array(dump.utf8)
        var references = References()
        var index = 0
        var previous: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index = skipString(bytes, from: index).end
                previous = byte
                continue
            }
            guard isNameStart(byte) else {
                if byte != UInt8(ascii: " ") {
                    previous = byte
                }
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, isNameStart(bytes[end]) || (bytes[end] >= 0x30 && bytes[end] <= 0x39) {
                end += 1
            }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            let isFunction = previous != UInt8(ascii: ".")
            previous = bytes[end - 1]
            index = end
            guard isFunction, name == "service" || name == "parameter",
                end + 1 < bytes.count, bytes[end] == UInt8(ascii: "("), bytes[end + 1] == UInt8(ascii: "\"")
            else { continue }
            let literal = skipString(bytes, from: end + 1)
            guard literal.end < bytes.count,
                bytes[literal.end] == UInt8(ascii: ")") || bytes[literal.end] == UInt8(ascii: ",")
            else { continue }
            let value = String(decoding: literal.content, as: UTF8.self)
            if name == "service" {
                references.services.append(value)
            } else {
                references.parameters.append(value)
            }
        }
        return references
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte >= 0x7f
    }

    /// Reads a dumped string starting at its opening quote: its unescaped bytes and the index after the quote.
    private static func skipString(_ bytes: [UInt8], from start: Int) -> (content: [UInt8], end: Int) {
        var content: [UInt8] = []
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                return (content, index + 1)
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                let next = bytes[index + 1]
                switch next {
                case UInt8(ascii: "t"):
                    content.append(0x09)
                    index += 2
                case UInt8(ascii: "0") where index + 3 < bytes.count:
                    content.append(0)
                    index += 4
                default:
                    content.append(next)
                    index += 2
                }
                continue
            }
            content.append(byte)
            index += 1
        }
        return (content, index)
    }
}
