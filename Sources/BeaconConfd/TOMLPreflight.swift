// SPDX-License-Identifier: Apache-2.0

/// Finds the malformed TOML that would abort the TOML parser instead of being reported.
///
/// toml++ 3.4.0, inside TOMLKit 0.6.0, checks some of its parsing functions' preconditions with assertions, which
/// abort the process on malformed input that reaches them instead of reporting an error. Four are known, each
/// found by fuzzing:
///
/// - a table header whose name starts with a character that cannot start a key (`[` and a line break, `[=`,
///   `[[[`), fixed upstream in marzer/tomlplusplus#301;
/// - a date-time whose `T` is not followed by a digit (`1979-05-27T!7:32:00Z`);
/// - a date, a space and a one-digit hour (`1979-05-27 0`), where anything toml++ takes for a date counts
///   (`1979-05-2= 0` too);
/// - a `}` where an array expects a value (`[}]`, `[1, }`).
///
/// This scan finds them first, so that the resource file is reported as malformed. It follows strings, comments
/// and multi-line array and inline-table values, so a line that starts with `[` inside a value is not taken for a
/// header.
enum TOMLPreflight {
    /// The first place where the TOML parser would abort.
    ///
    /// - Parameter text: A TOML document; like the parser, the scan stops at a NUL byte.
    /// - Returns: The 1-based line and what is wrong there, or `nil` when the parser can be given the text.
    static func problem(in text: String) -> (line: Int, message: String)? {
        let bytes = Array(text.utf8.prefix { $0 != 0 })
        var line = 1
        var index = 0
        var atLineStart = true
        var containers: [UInt8] = []
        var expectingArrayValue = false
        var inHeader = false
        // Whether a bare word here is a key (before `=` on a line, or in an inline table), not a value.
        var expectingKey = true
        func byte(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
        func skipString(_ quote: UInt8, multiLine: Bool, escapes: Bool) {
            index += multiLine ? 3 : 1
            while let current = byte(0) {
                if escapes && current == UInt8(ascii: "\\") {
                    if byte(1) == UInt8(ascii: "\n") { line += 1 }
                    index += 2
                    continue
                }
                if current == UInt8(ascii: "\n") {
                    if !multiLine { return }
                    line += 1
                }
                if current == quote && (!multiLine || (byte(1) == quote && byte(2) == quote)) {
                    index += multiLine ? 3 : 1
                    return
                }
                index += 1
            }
        }
        while let current = byte(0) {
            switch current {
            case UInt8(ascii: "\n"):
                line += 1
                atLineStart = true
                inHeader = false
                if containers.isEmpty { expectingKey = true }
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                while let next = byte(0), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                atLineStart = false
                expectingArrayValue = false
                let multiLine = byte(1) == current && byte(2) == current
                skipString(current, multiLine: multiLine, escapes: current == UInt8(ascii: "\""))
            case UInt8(ascii: "[") where atLineStart && containers.isEmpty:
                atLineStart = false
                inHeader = true
                index += byte(1) == UInt8(ascii: "[") ? 2 : 1
                while byte(0) == UInt8(ascii: " ") || byte(0) == UInt8(ascii: "\t") { index += 1 }
                if let first = byte(0), !Self.startsKey(first) {
                    return (line, "a table header's name must start with a key")
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                atLineStart = false
                containers.append(current)
                expectingKey = current == UInt8(ascii: "{")
                expectingArrayValue = current == UInt8(ascii: "[")
                index += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if current == UInt8(ascii: "}") && expectingArrayValue {
                    return (line, "an array's value is missing before }")
                }
                atLineStart = false
                expectingArrayValue = false
                _ = containers.popLast()
                index += 1
            case UInt8(ascii: ","):
                atLineStart = false
                expectingArrayValue = containers.last == UInt8(ascii: "[")
                expectingKey = containers.last == UInt8(ascii: "{")
                index += 1
            case UInt8(ascii: "="):
                atLineStart = false
                expectingArrayValue = false
                expectingKey = false
                index += 1
            case let first where Self.isWordByte(first):
                // A bare word: a key, a number, a date. Date-times are checked in values only: a key may be
                // spelled like one.
                atLineStart = false
                expectingArrayValue = false
                let start = index
                while let next = byte(0), Self.isWordByte(next) { index += 1 }
                let isKey = inHeader || expectingKey
                if !isKey, Self.isDate(bytes, at: start), start + 10 < bytes.count,
                    bytes[start + 10] | 0x20 == UInt8(ascii: "t"),
                    !(start + 11 < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start + 11]))
                {
                    return (line, "a date-time's T must be followed by a time")
                }
                if !isKey, let end = Self.endOfSpacedDate(bytes, at: start),
                    end + 1 < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end + 1]),
                    !(end + 2 < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end + 2]))
                {
                    return (line, "a time after a date must start with a two-digit hour")
                }
            default:
                atLineStart = false
                expectingArrayValue = false
                index += 1
            }
        }
        return nil
    }

    /// Where a value that toml++ may take for a date followed by a space (a date-time with a space for its `T`)
    /// ends: the index of that space, or `nil`.
    ///
    /// toml++ scans a value up to a value terminator, then takes it for such a date when it has ten characters,
    /// starts with a digit, has `-` fourth and seventh, and nothing that gives the value another trait (`+`, `.`,
    /// `:`, `T`, `Z`); any other character, `1979-05-2=` or `1979-05-2a` as much as `1979-05-27`, passes, and
    /// underscores are not counted (`1__974-79-05` is ten characters).
    private static func endOfSpacedDate(_ bytes: [UInt8], at index: Int) -> Int? {
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
        var characters = 0
        var position = index
        while position < bytes.count, !Self.isValueTerminator(bytes[position]) {
            let byte = bytes[position]
            // A UTF-8 continuation byte belongs to the character before it; toml++ does not count underscores.
            if byte & 0xC0 != 0x80 && byte != UInt8(ascii: "_") {
                if characters == 4 || characters == 7 {
                    guard byte == UInt8(ascii: "-") else { return nil }
                } else if [UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: ":")].contains(byte)
                    || byte | 0x20 == UInt8(ascii: "t") || byte | 0x20 == UInt8(ascii: "z")
                {
                    return nil
                }
                characters += 1
            }
            position += 1
        }
        guard characters == 10, position < bytes.count, bytes[position] == UInt8(ascii: " ") else { return nil }
        return position
    }

    /// Whether toml++ ends a value's scan at this byte.
    private static func isValueTerminator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C,
            UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "#"):
            return true
        default:
            return false
        }
    }

    /// Whether `YYYY-MM-DD` starts at `index`.
    private static func isDate(_ bytes: [UInt8], at index: Int) -> Bool {
        guard index + 10 <= bytes.count else { return false }
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        return (0..<10).allSatisfy { offset in
            offset == 4 || offset == 7
                ? bytes[index + offset] == UInt8(ascii: "-") : digits.contains(bytes[index + offset])
        }
    }

    /// Whether a byte continues a bare word (a number, a date, a key): not a delimiter the scan looks at.
    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    /// Whether a header's name may start with this byte: a bare-key character, a quote, or the `]` of an empty
    /// name (which the parser reports as an error).
    private static func startsKey(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }
}
