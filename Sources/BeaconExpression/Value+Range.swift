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

/// PHP 8.2's `range($start, $end)` with a step of 1, for the `..` operator.
enum PHPRange {
    /// The largest array `..` builds; PHP would exhaust its memory limit first.
    static let maximumCount = 1_000_000

    private static func stepError() -> ExpressionError {
        ExpressionError(.valueError, "range(): Argument #3 ($step) must not exceed the specified range")
    }

    private static func sizeError(_ start: String, _ end: String) -> ExpressionError {
        ExpressionError(
            .valueError,
            "The supplied range exceeds the maximum array size: start=\(start) end=\(end)"
        )
    }

    static func range(_ low: ExpressionValue, _ high: ExpressionValue, scope: Scope) throws -> ExpressionValue {
        if case .string(let first) = low, case .string(let second) = high, !first.isEmpty, !second.isEmpty {
            let firstNumeric = parseNumericString(first.bytes, allowErrors: false)
            let secondNumeric = parseNumericString(second.bytes, allowErrors: false)
            let isDouble: (NumericString?) -> Bool = { numeric in
                if case .float = numeric?.number { return true }
                return false
            }
            if isDouble(firstNumeric) || isDouble(secondNumeric) {
                return try doubleRange(phpLenientDouble(low, scope: scope), phpLenientDouble(high, scope: scope))
            }
            if firstNumeric != nil || secondNumeric != nil {
                return try integerRange(phpLenientInteger(low, scope: scope), phpLenientInteger(high, scope: scope))
            }
            return characterRange(first.bytes[0], second.bytes[0])
        }
        var lowIsDouble = false
        var highIsDouble = false
        if case .float = low { lowIsDouble = true }
        if case .float = high { highIsDouble = true }
        if lowIsDouble || highIsDouble {
            return try doubleRange(phpLenientDouble(low, scope: scope), phpLenientDouble(high, scope: scope))
        }
        return try integerRange(phpLenientInteger(low, scope: scope), phpLenientInteger(high, scope: scope))
    }

    private static func characterRange(_ low: UInt8, _ high: UInt8) -> ExpressionValue {
        let bytes: [UInt8] = low <= high ? Array(low...high) : Array((high...low).reversed())
        return .list(bytes.map { .string(ExpressionString(bytes: [$0])) })
    }

    private static func doubleRange(_ low: Double, _ high: Double) throws -> ExpressionValue {
        if low.isInfinite || high.isInfinite {
            throw ExpressionError(
                .valueError,
                "Invalid range supplied: start=\(formatNoDecimals(low)) end=\(formatNoDecimals(high))"
            )
        }
        if low == high {
            return .list([.float(low)])
        }
        let descending = low > high
        let span = descending ? low - high : high - low
        if !(span >= 1) {
            throw stepError()
        }
        let calculated = span + 1
        if calculated >= Double(maximumCount) || calculated.isNaN {
            throw sizeError(formatNoDecimals(high), formatNoDecimals(low))
        }
        let size = Int((calculated).rounded(.toNearestOrAwayFromZero))
        var values: [ExpressionValue] = []
        values.reserveCapacity(size)
        var index = 0
        var element = low
        while index < size, descending ? element >= high : element <= high {
            values.append(.float(element))
            index += 1
            element = descending ? low - Double(index) : low + Double(index)
        }
        return .list(values)
    }

    private static func integerRange(_ low: Int, _ high: Int) throws -> ExpressionValue {
        if low == high {
            return .list([.int(low)])
        }
        let span = low > high ? UInt64(bitPattern: Int64(low &- high)) : UInt64(bitPattern: Int64(high &- low))
        if span >= UInt64(maximumCount) {
            throw sizeError(String(high), String(low))
        }
        let count = Int(span) + 1
        var values: [ExpressionValue] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(.int(low > high ? low - index : low + index))
        }
        return .list(values)
    }

    /// `%0.0f`, as PHP's range() messages print floats.
    private static func formatNoDecimals(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        var buffer = [CChar](repeating: 0, count: 400)
        _ = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([value]) { vsnprintf(pointer.baseAddress, pointer.count, "%0.0f", $0) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
