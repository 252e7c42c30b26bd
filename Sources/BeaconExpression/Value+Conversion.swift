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
            .error,
            "Object of class \(object.className) could not be converted to string"
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
    case .array, .object: throw ExpressionError(.typeError, "Illegal offset type")
    }
}
