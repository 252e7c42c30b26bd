// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The result of PHP's `is_numeric_string_ex`.
struct NumericString {
    /// The number.
    var number: PHPNumber
    /// Whether non-whitespace bytes follow the number ("leading-numeric" string).
    var hasTrailingData: Bool
    /// For integer-looking strings that overflowed to float: 1 (too large) or -1 (too small), else 0.
    var overflow: Int
}

private func isNumericWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
}

func isDecimalDigit(_ byte: UInt8) -> Bool {
    byte >= 0x30 && byte <= 0x39
}

/// PHP 8's numeric-string rules: optional leading whitespace, sign, digits with an optional fraction and
/// exponent (or `.digits`), optional trailing whitespace. With `allowErrors`, other trailing bytes are
/// accepted and flagged (a leading-numeric string); without, such strings are not numeric.
func parseNumericString(_ bytes: [UInt8], allowErrors: Bool) -> NumericString? {
    let end = bytes.count
    var index = 0
    while index < end, isNumericWhitespace(bytes[index]) {
        index += 1
    }
    let start = index
    var cursor = index
    if cursor < end, bytes[cursor] == UInt8(ascii: "-") || bytes[cursor] == UInt8(ascii: "+") {
        cursor += 1
    }
    var isDouble = false
    if cursor < end, isDecimalDigit(bytes[cursor]) {
        while cursor < end, isDecimalDigit(bytes[cursor]) {
            cursor += 1
        }
        if cursor < end, bytes[cursor] == UInt8(ascii: ".") {
            isDouble = true
            cursor += 1
            while cursor < end, isDecimalDigit(bytes[cursor]) {
                cursor += 1
            }
        }
    } else if cursor + 1 < end, bytes[cursor] == UInt8(ascii: "."), isDecimalDigit(bytes[cursor + 1]) {
        isDouble = true
        cursor += 1
        while cursor < end, isDecimalDigit(bytes[cursor]) {
            cursor += 1
        }
    } else {
        return nil
    }
    if cursor < end, bytes[cursor] == UInt8(ascii: "e") || bytes[cursor] == UInt8(ascii: "E") {
        var exponent = cursor + 1
        if exponent < end, bytes[exponent] == UInt8(ascii: "-") || bytes[exponent] == UInt8(ascii: "+") {
            exponent += 1
        }
        if exponent < end, isDecimalDigit(bytes[exponent]) {
            isDouble = true
            cursor = exponent
            while cursor < end, isDecimalDigit(bytes[cursor]) {
                cursor += 1
            }
        }
    }
    let numberEnd = cursor
    while cursor < end, isNumericWhitespace(bytes[cursor]) {
        cursor += 1
    }
    let trailing = cursor != end
    if trailing, !allowErrors {
        return nil
    }
    let text = bytes[start..<numberEnd]
    if !isDouble {
        if let integer = parseDecimalInteger(text) {
            return NumericString(number: .int(integer), hasTrailingData: trailing, overflow: 0)
        }
        let negative = text.first == UInt8(ascii: "-")
        return NumericString(number: .float(strtodBytes(text)), hasTrailingData: trailing, overflow: negative ? -1 : 1)
    }
    return NumericString(number: .float(strtodBytes(text)), hasTrailingData: trailing, overflow: 0)
}

/// Parses `[+-]digits` as an Int, or `nil` on overflow.
private func parseDecimalInteger(_ text: ArraySlice<UInt8>) -> Int? {
    var index = text.startIndex
    var negative = false
    if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
        negative = text[index] == UInt8(ascii: "-")
        index += 1
    }
    var magnitude: UInt64 = 0
    while index < text.endIndex {
        let (product, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = product.addingReportingOverflow(UInt64(text[index] - 0x30))
        if overflow1 || overflow2 { return nil }
        magnitude = sum
        index += 1
    }
    if negative {
        if magnitude == UInt64(Int.max) + 1 { return Int.min }
        return magnitude <= UInt64(Int.max) ? -Int(magnitude) : nil
    }
    return magnitude <= UInt64(Int.max) ? Int(magnitude) : nil
}

/// C `strtod` over a byte slice that holds a validated decimal number.
func strtodBytes(_ text: ArraySlice<UInt8>) -> Double {
    var buffer = text.map { CChar(bitPattern: $0) }
    buffer.append(0)
    return buffer.withUnsafeBufferPointer { pointer in
        guard let base = pointer.baseAddress else { return 0 }
        return strtod(base, nil)
    }
}
