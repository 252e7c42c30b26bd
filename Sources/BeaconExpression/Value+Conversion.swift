// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A number as PHP's arithmetic sees it.
enum PHPNumber {
    case int(Int)
    case float(Double)

    var value: ExpressionValue {
        switch self {
        case .int(let value): .int(value)
        case .float(let value): .float(value)
        }
    }

    var doubleValue: Double {
        switch self {
        case .int(let value): Double(value)
        case .float(let value): value
        }
    }
}

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

private func isDigit(_ byte: UInt8) -> Bool {
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
    if cursor < end, isDigit(bytes[cursor]) {
        while cursor < end, isDigit(bytes[cursor]) {
            cursor += 1
        }
        if cursor < end, bytes[cursor] == UInt8(ascii: ".") {
            isDouble = true
            cursor += 1
            while cursor < end, isDigit(bytes[cursor]) {
                cursor += 1
            }
        }
    } else if cursor + 1 < end, bytes[cursor] == UInt8(ascii: "."), isDigit(bytes[cursor + 1]) {
        isDouble = true
        cursor += 1
        while cursor < end, isDigit(bytes[cursor]) {
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
        if exponent < end, isDigit(bytes[exponent]) {
            isDouble = true
            cursor = exponent
            while cursor < end, isDigit(bytes[cursor]) {
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

// MARK: - Floats to strings

/// Decimal digits of a positive finite double and the decimal point position (`0.d1d2... x 10^decpt`).
private struct DecimalDigits {
    var digits: [UInt8]
    var decimalPoint: Int
}

/// The digits of `value` rounded to `precision` significant digits (zend_dtoa mode 2), trailing zeros removed.
private func roundedDigits(_ value: Double, precision: Int) -> DecimalDigits {
    var buffer = [CChar](repeating: 0, count: 64)
    let format = "%.\(precision - 1)e"
    _ = buffer.withUnsafeMutableBufferPointer { pointer in
        withVaList([value]) { arguments in
            vsnprintf(pointer.baseAddress, pointer.count, format, arguments)
        }
    }
    let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return decimalDigits(fromScientific: text)
}

/// The shortest digits that round-trip (zend_dtoa mode 0), from Swift's own shortest formatting.
private func shortestDigits(_ value: Double) -> DecimalDigits {
    decimalDigits(fromScientific: value.description.utf8)
}

/// Reads `d.ddde±x`, `d.ddd` or `ddd` text into digits and a decimal point position, in one pass.
private func decimalDigits<Text: Collection<UInt8>>(fromScientific text: Text) -> DecimalDigits {
    var digits: [UInt8] = []
    digits.reserveCapacity(20)
    var pointIndex: Int?
    var inExponent = false
    var exponent = 0
    var negativeExponent = false
    for byte in text {
        if inExponent {
            if byte == UInt8(ascii: "-") {
                negativeExponent = true
            } else if isDigit(byte) {
                exponent = exponent * 10 + Int(byte - 0x30)
            }
        } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            inExponent = true
        } else if byte == UInt8(ascii: ".") {
            pointIndex = digits.count
        } else if isDigit(byte) {
            digits.append(byte)
        }
    }
    var decimalPoint = (pointIndex ?? digits.count) + (negativeExponent ? -exponent : exponent)
    var leadingZeros = 0
    while leadingZeros < digits.count - 1, digits[leadingZeros] == UInt8(ascii: "0") {
        leadingZeros += 1
    }
    if leadingZeros > 0 {
        digits.removeFirst(leadingZeros)
        decimalPoint -= leadingZeros
    }
    while digits.count > 1, digits[digits.count - 1] == UInt8(ascii: "0") {
        digits.removeLast()
    }
    return DecimalDigits(digits: digits, decimalPoint: decimalPoint)
}

/// PHP's `zend_gcvt` layout of digits: plain notation, or `d.dddE+x` when the exponent is out of range.
private func gcvt(_ value: Double, digits source: DecimalDigits, threshold: Int) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(source.digits.count + 8)
    if value.sign == .minus {
        output.append(UInt8(ascii: "-"))
    }
    let digits = source.digits
    var decimalPoint = source.decimalPoint
    if decimalPoint < 0 ? decimalPoint < -3 : decimalPoint > threshold {
        decimalPoint -= 1
        let negativeExponent = decimalPoint < 0
        output.append(digits[0])
        output.append(UInt8(ascii: "."))
        if digits.count == 1 {
            output.append(UInt8(ascii: "0"))
        } else {
            output += digits[1...]
        }
        output.append(UInt8(ascii: "E"))
        output.append(negativeExponent ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        output += Array(String(abs(decimalPoint)).utf8)
    } else if decimalPoint < 0 {
        output += [UInt8(ascii: "0"), UInt8(ascii: ".")]
        output += [UInt8](repeating: UInt8(ascii: "0"), count: -decimalPoint)
        output += digits
    } else {
        for index in 0..<decimalPoint {
            output.append(index < digits.count ? digits[index] : UInt8(ascii: "0"))
        }
        if digits.count > decimalPoint {
            if decimalPoint == 0 {
                output.append(UInt8(ascii: "0"))
            }
            output.append(UInt8(ascii: "."))
            output += digits[decimalPoint...]
        }
    }
    return output
}

/// PHP's conversion of a float to a string (`precision=14`): `0.3`, `1.0E+20`, `-0`, `INF`, `NAN`.
func phpFloatString(_ value: Double) -> [UInt8] {
    if value.isNaN { return Array("NAN".utf8) }
    if value.isInfinite { return Array((value < 0 ? "-INF" : "INF").utf8) }
    if value == 0 { return Array((value.sign == .minus ? "-0" : "0").utf8) }
    // When the shortest round-tripping form has at most 14 significant digits, rounding the exact value to
    // 14 digits gives the same digits (the value is within half an ulp of them), so skip printf.
    let shortest = shortestDigits(abs(value))
    if shortest.digits.count <= 14 {
        return gcvt(value, digits: shortest, threshold: 14)
    }
    return gcvt(value, digits: roundedDigits(abs(value), precision: 14), threshold: 14)
}

/// PHP's `%.*H` with precision -1 (`serialize_precision=-1`): the shortest round-tripping form, such as
/// `7.5` or `1.0E+25`, as used in deprecation messages.
func phpRepr(_ value: Double) -> String {
    if value.isNaN { return "NAN" }
    if value.isInfinite { return value < 0 ? "-INF" : "INF" }
    if value == 0 { return value.sign == .minus ? "-0" : "0" }
    return String(decoding: gcvt(value, digits: shortestDigits(abs(value)), threshold: 17), as: UTF8.self)
}

// MARK: - PHP conversions

/// PHP's `(string)` conversion; arrays give `Array` with a warning, objects use ``ExpressionObject/stringConversion()``.
func phpString(of value: ExpressionValue, scope: Scope) throws -> [UInt8] {
    switch value {
    case .null: return []
    case .bool(let flag): return flag ? [UInt8(ascii: "1")] : []
    case .int(let integer): return Array(String(integer).utf8)
    case .float(let double): return phpFloatString(double)
    case .string(let string): return string.bytes
    case .array:
        scope.warning("Array to string conversion")
        return Array("Array".utf8)
    case .object(let object):
        if let string = try object.stringConversion() {
            return string.bytes
        }
        throw ExpressionError(
            code: .error,
            message: "Object of class \(object.className) could not be converted to string"
        )
    }
}

/// The variant used by descriptions: never warns.
func phpString(of value: ExpressionValue, warn: (String) -> Void) throws -> [UInt8] {
    try phpString(of: value, scope: .silent)
}

/// PHP truthiness: `0`, `0.0`, `""`, `"0"`, `[]`, `null` and `false` are false.
func isTruthy(_ value: ExpressionValue) -> Bool {
    switch value {
    case .null: return false
    case .bool(let flag): return flag
    case .int(let integer): return integer != 0
    case .float(let double): return double != 0
    case .string(let string):
        return !(string.bytes.isEmpty || string.bytes == [UInt8(ascii: "0")])
    case .array(let array): return !array.isEmpty
    case .object: return true
    }
}

/// PHP's `zendi_try_convert_scalar_to_number`: `nil` when the operand cannot take part in arithmetic.
func phpNumber(_ value: ExpressionValue, scope: Scope) -> PHPNumber? {
    switch value {
    case .null: return .int(0)
    case .bool(let flag): return .int(flag ? 1 : 0)
    case .int(let integer): return .int(integer)
    case .float(let double): return .float(double)
    case .string(let string):
        guard let numeric = parseNumericString(string.bytes, allowErrors: true) else { return nil }
        if numeric.hasTrailingData {
            scope.warning("A non-numeric value encountered")
        }
        return numeric.number
    case .array, .object: return nil
    }
}

/// PHP's `zend_dval_to_lval`: NaN and infinities give 0, out-of-range values wrap modulo 2^64.
func doubleToInt(_ value: Double) -> Int {
    if !value.isFinite { return 0 }
    if value >= -9.2233720368547758e18, value < 9.2233720368547758e18 {
        return Int(value)
    }
    let twoPow64 = 18446744073709551616.0
    var modulo = fmod(value, twoPow64)
    if modulo < 0 {
        modulo += twoPow64
    }
    if modulo >= 9.2233720368547758e18 {
        modulo -= twoPow64
    }
    guard modulo >= -9.2233720368547758e18, modulo < 9.2233720368547758e18 else { return 0 }
    return Int(modulo)
}

/// PHP's `zend_dval_to_lval_cap`: saturating conversion used for numeric strings.
func doubleToIntSaturating(_ value: Double) -> Int {
    if !value.isFinite { return 0 }
    if value >= 9.2233720368547758e18 { return Int.max }
    if value < -9.2233720368547758e18 { return Int.min }
    return Int(value)
}

/// PHP's `zendi_try_get_long` (used by `%` and the bitwise operators): `nil` when the operand is not usable.
func phpInteger(_ value: ExpressionValue, scope: Scope) -> Int? {
    switch value {
    case .null: return 0
    case .bool(let flag): return flag ? 1 : 0
    case .int(let integer): return integer
    case .float(let double):
        let integer = doubleToInt(double)
        if Double(integer) != double {
            scope.deprecation("Implicit conversion from float \(phpRepr(double)) to int loses precision")
        }
        return integer
    case .string(let string):
        guard let numeric = parseNumericString(string.bytes, allowErrors: true) else { return nil }
        if numeric.hasTrailingData {
            scope.warning("A non-numeric value encountered")
        }
        switch numeric.number {
        case .int(let integer):
            return integer
        case .float(let double):
            let integer = doubleToIntSaturating(double)
            if Double(integer) != double {
                scope.deprecation(
                    "Implicit conversion from float-string \"\(string.description)\" to int loses precision"
                )
            }
            return integer
        }
    case .array, .object: return nil
    }
}

/// PHP's `zval_get_long` (lenient: used by `range()`).
func phpLenientInteger(_ value: ExpressionValue, scope: Scope) -> Int {
    switch value {
    case .null: return 0
    case .bool(let flag): return flag ? 1 : 0
    case .int(let integer): return integer
    case .float(let double): return doubleToInt(double)
    case .string(let string):
        guard let numeric = parseNumericString(string.bytes, allowErrors: true) else { return 0 }
        switch numeric.number {
        case .int(let integer): return integer
        case .float(let double): return doubleToIntSaturating(double)
        }
    case .array(let array): return array.isEmpty ? 0 : 1
    case .object(let object):
        scope.warning("Object of class \(object.className) could not be converted to int")
        return 1
    }
}

/// PHP's `zval_get_double` (lenient: used by `range()`).
func phpLenientDouble(_ value: ExpressionValue, scope: Scope) -> Double {
    switch value {
    case .null: return 0
    case .bool(let flag): return flag ? 1 : 0
    case .int(let integer): return Double(integer)
    case .float(let double): return double
    case .string(let string):
        guard let numeric = parseNumericString(string.bytes, allowErrors: true) else { return 0 }
        return numeric.number.doubleValue
    case .array(let array): return array.isEmpty ? 0 : 1
    case .object(let object):
        scope.warning("Object of class \(object.className) could not be converted to float")
        return 1
    }
}

/// Normalises a value used as an array key, as PHP does for `$array[$key]` and array literals.
func phpArrayKey(_ value: ExpressionValue, scope: Scope) throws -> ExpressionArrayKey {
    switch value {
    case .null: return .string(ExpressionString(bytes: []))
    case .bool(let flag): return .int(flag ? 1 : 0)
    case .int(let integer): return .int(integer)
    case .float(let double):
        let integer = doubleToInt(double)
        if Double(integer) != double {
            scope.deprecation("Implicit conversion from float \(phpRepr(double)) to int loses precision")
        }
        return .int(integer)
    case .string(let string): return ExpressionArrayKey(normalizing: string)
    case .array, .object: throw ExpressionError(code: .typeError, message: "Illegal offset type")
    }
}
