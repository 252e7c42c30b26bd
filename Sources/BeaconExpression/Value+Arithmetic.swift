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

/// PHP's arithmetic and bitwise operators on ``ExpressionValue``.
enum PHPArithmetic {
    /// Converts both operands to numbers, left first, or throws PHP's `Unsupported operand types`.
    private static func numbers(
        _ left: ExpressionValue,
        _ symbol: String,
        _ right: ExpressionValue,
        scope: Scope
    ) throws -> (PHPNumber, PHPNumber) {
        guard let first = phpNumber(left, scope: scope), let second = phpNumber(right, scope: scope) else {
            throw ExpressionError.unsupportedOperands(left, symbol, right)
        }
        return (first, second)
    }

    /// `+`: numbers, or the key union of two arrays.
    static func add(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? .float(Double(a) + Double(b)) : .int(sum)
        case (.float(let a), .float(let b)): return .float(a + b)
        case (.int(let a), .float(let b)): return .float(Double(a) + b)
        case (.float(let a), .int(let b)): return .float(a + Double(b))
        case (.array(var a), .array(let b)):
            for (key, value) in b.entries where a[key] == nil {
                a[key] = value
            }
            return .array(a)
        default:
            let (a, b) = try numbers(left, "+", right, scope: scope)
            return try add(a.value, b.value, scope: scope)
        }
    }

    /// `-`.
    static func subtract(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            let (difference, overflow) = a.subtractingReportingOverflow(b)
            return overflow ? .float(Double(a) - Double(b)) : .int(difference)
        case (.float(let a), .float(let b)): return .float(a - b)
        case (.int(let a), .float(let b)): return .float(Double(a) - b)
        case (.float(let a), .int(let b)): return .float(a - Double(b))
        default:
            let (a, b) = try numbers(left, "-", right, scope: scope)
            return try subtract(a.value, b.value, scope: scope)
        }
    }

    /// `*`.
    static func multiply(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? .float(Double(a) * Double(b)) : .int(product)
        case (.float(let a), .float(let b)): return .float(a * b)
        case (.int(let a), .float(let b)): return .float(Double(a) * b)
        case (.float(let a), .int(let b)): return .float(a * Double(b))
        default:
            let (a, b) = try numbers(left, "*", right, scope: scope)
            return try multiply(a.value, b.value, scope: scope)
        }
    }

    /// PHP's own `/` (after Symfony's `0 == right` check): ints divide exactly to an int, otherwise to a float.
    static func divide(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        let divisionByZero = ExpressionError(.divisionByZero, "Division by zero")
        switch (left, right) {
        case (.int(let a), .int(let b)):
            if b == 0 { throw divisionByZero }
            if b == -1, a == Int.min { return .float(Double(a) / -1) }
            if a % b == 0 { return .int(a / b) }
            return .float(Double(a) / Double(b))
        case (.float(let a), .float(let b)):
            if b == 0 { throw divisionByZero }
            return .float(a / b)
        case (.int(let a), .float(let b)):
            if b == 0 { throw divisionByZero }
            return .float(Double(a) / b)
        case (.float(let a), .int(let b)):
            if b == 0 { throw divisionByZero }
            return .float(a / Double(b))
        default:
            let (a, b) = try numbers(left, "/", right, scope: scope)
            return try divide(a.value, b.value, scope: scope)
        }
    }

    /// PHP's own `%` (after Symfony's `0 == right` check): integer remainder with the dividend's sign.
    static func modulo(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        let (a, b) = try integers(left, "%", right, scope: scope)
        if b == 0 {
            throw ExpressionError(.divisionByZero, "Modulo by zero")
        }
        if b == -1 {
            return .int(0)
        }
        return .int(a % b)
    }

    /// `**` (PHP's `pow()`): exact integer powers while they fit, floats otherwise.
    static func power(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        switch (left, right) {
        case (.int(let base), .int(let exponent)):
            return integerPower(base, exponent)
        case (.float(let a), .float(let b)): return .float(pow(a, b))
        case (.int(let a), .float(let b)): return .float(pow(Double(a), b))
        case (.float(let a), .int(let b)): return .float(pow(a, Double(b)))
        default:
            let (a, b) = try numbers(left, "**", right, scope: scope)
            return try power(a.value, b.value, scope: scope)
        }
    }

    /// `pow_function_base` for two ints (square-and-multiply, falling back to floats on overflow).
    private static func integerPower(_ base: Int, _ exponent: Int) -> ExpressionValue {
        guard exponent >= 0 else {
            return .float(pow(Double(base), Double(exponent)))
        }
        if exponent == 0 { return .int(1) }
        if base == 0 { return .int(0) }
        var result = 1
        var square = base
        var remaining = exponent
        while remaining >= 1 {
            if remaining % 2 != 0 {
                remaining -= 1
                let (product, overflow) = result.multipliedReportingOverflow(by: square)
                if overflow {
                    return .float(Double(result) * Double(square) * pow(Double(square), Double(remaining)))
                }
                result = product
            } else {
                remaining /= 2
                let (product, overflow) = square.multipliedReportingOverflow(by: square)
                if overflow {
                    return .float(Double(result) * pow(Double(square) * Double(square), Double(remaining)))
                }
                square = product
            }
        }
        return .int(result)
    }

    /// Unary minus: PHP compiles `-x` to `x * -1`.
    static func negate(_ value: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        try multiply(value, .int(-1), scope: scope)
    }

    /// Converts both operands to integers (`%`, `&`, `|`, `^`), left first.
    private static func integers(
        _ left: ExpressionValue,
        _ symbol: String,
        _ right: ExpressionValue,
        scope: Scope
    ) throws -> (Int, Int) {
        if case .int(let a) = left, case .int(let b) = right {
            return (a, b)
        }
        guard let a = phpInteger(left, scope: scope), let b = phpInteger(right, scope: scope) else {
            throw ExpressionError.unsupportedOperands(left, symbol, right)
        }
        return (a, b)
    }

    /// The bitwise operators; two strings combine byte by byte as in PHP.
    static func bitwise(
        _ symbol: String,
        _ left: ExpressionValue,
        _ right: ExpressionValue,
        scope: Scope
    ) throws -> ExpressionValue {
        if case .string(let a) = left, case .string(let b) = right {
            let shorter = min(a.count, b.count)
            var bytes = [UInt8]()
            bytes.reserveCapacity(symbol == "|" ? max(a.count, b.count) : shorter)
            for index in 0..<shorter {
                switch symbol {
                case "|": bytes.append(a.bytes[index] | b.bytes[index])
                case "&": bytes.append(a.bytes[index] & b.bytes[index])
                default: bytes.append(a.bytes[index] ^ b.bytes[index])
                }
            }
            if symbol == "|" {
                bytes += a.count > shorter ? a.bytes[shorter...] : b.bytes[shorter...]
            }
            return .string(ExpressionString(bytes: bytes))
        }
        let (a, b) = try integers(left, symbol, right, scope: scope)
        switch symbol {
        case "|": return .int(a | b)
        case "&": return .int(a & b)
        default: return .int(a ^ b)
        }
    }

    /// `~`: PHP string concatenation.
    static func concatenate(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        let first = try phpString(of: left, scope: scope)
        let second = try phpString(of: right, scope: scope)
        return .string(ExpressionString(bytes: first + second))
    }
}
