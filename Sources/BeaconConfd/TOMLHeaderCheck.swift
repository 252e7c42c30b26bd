// SPDX-License-Identifier: Apache-2.0

/// Finds the table headers that would abort the TOML parser.
///
/// toml++ 3.4.0, inside TOMLKit 0.6.0, aborts the process on a table header whose name starts with a character
/// that cannot start a key (`[` and a line break, `[=`, `[[[`) instead of reporting an error (fixed upstream in
/// marzer/tomlplusplus#301). This scan finds such a header first, so the resource file is reported as malformed.
/// It follows strings, comments and multi-line array and inline-table values, so a line that starts with `[`
/// inside a value is not taken for a header.
enum TOMLHeaderCheck {
    /// The line of the first table header whose name does not start with a key character.
    ///
    /// - Parameter text: A TOML document; like the parser, the scan stops at a NUL byte.
    /// - Returns: The 1-based line, or `nil` when every header starts well.
    static func badHeaderLine(in text: String) -> Int? {
        let bytes = Array(text.utf8.prefix { $0 != 0 })
        var line = 1
        var index = 0
        var atLineStart = true
        var depth = 0
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
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                while let next = byte(0), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                atLineStart = false
                let multiLine = byte(1) == current && byte(2) == current
                skipString(current, multiLine: multiLine, escapes: current == UInt8(ascii: "\""))
            case UInt8(ascii: "[") where atLineStart && depth == 0:
                atLineStart = false
                index += byte(1) == UInt8(ascii: "[") ? 2 : 1
                while byte(0) == UInt8(ascii: " ") || byte(0) == UInt8(ascii: "\t") { index += 1 }
                if let first = byte(0), !Self.startsKey(first) { return line }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                atLineStart = false
                depth += 1
                index += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                atLineStart = false
                depth = max(0, depth - 1)
                index += 1
            default:
                atLineStart = false
                index += 1
            }
        }
        return nil
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
