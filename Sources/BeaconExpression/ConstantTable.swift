// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// The constants the built-in `constant()` function reads.
final class ConstantTable: Sendable {
    private let values: Lock<[String: ExpressionValue]>

    /// Starts with the PHP constants expressions commonly use.
    init() {
        values = Lock([
            "PHP_INT_MAX": .int(Int.max),
            "PHP_INT_MIN": .int(Int.min),
            "PHP_INT_SIZE": .int(8),
            "PHP_FLOAT_EPSILON": .float(Double.ulpOfOne),
            "PHP_FLOAT_MAX": .float(Double.greatestFiniteMagnitude),
            "PHP_FLOAT_MIN": .float(Double.leastNormalMagnitude),
            "PHP_FLOAT_DIG": .int(15),
            "PHP_EOL": .string("\n"),
            "PHP_OS": .string("Linux"),
            "PHP_OS_FAMILY": .string("Linux"),
            "NAN": .float(Double.nan),
            "INF": .float(Double.infinity),
            "M_PI": .float(Double.pi),
            "M_E": .float(2.718281828459045),
            "M_SQRT2": .float(2.0.squareRoot()),
            "M_PI_2": .float(Double.pi / 2),
            "M_PI_4": .float(Double.pi / 4),
            "M_1_PI": .float(1 / Double.pi),
            "M_2_PI": .float(2 / Double.pi),
            "M_LN2": .float(0.6931471805599453),
            "M_LN10": .float(2.302585092994046),
            "M_LOG2E": .float(1.4426950408889634),
            "M_LOG10E": .float(0.4342944819032518),
            "M_SQRT1_2": .float(0.7071067811865476),
            "E_ALL": .int(32767),
            "E_ERROR": .int(1),
            "E_WARNING": .int(2),
            "E_NOTICE": .int(8),
            "E_DEPRECATED": .int(8192),
            "SORT_REGULAR": .int(0),
            "SORT_NUMERIC": .int(1),
            "SORT_STRING": .int(2),
            "JSON_THROW_ON_ERROR": .int(4_194_304),
            "DIRECTORY_SEPARATOR": .string("/"),
            "PATH_SEPARATOR": .string(":"),
        ])
    }

    func define(_ name: String, value: ExpressionValue) {
        values.withLock { $0[name] = value }
    }

    /// The class part of `Class::NAME`, if the name has one.
    private static func className(in name: String) -> String? {
        let bytes = Array(name.utf8)
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1)
        where bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
            return String(decoding: bytes[..<index], as: UTF8.self)
        }
        return nil
    }

    /// PHP's `constant(string $name)`.
    func evaluate(_ arguments: [ExpressionValue]) throws -> ExpressionValue {
        guard arguments.count == 1 else {
            throw ExpressionError(
                .argumentCountError,
                "constant() expects exactly 1 argument, \(arguments.count) given"
            )
        }
        let name: String
        switch arguments[0] {
        case .array, .object:
            throw ExpressionError(
                .typeError,
                "constant(): Argument #1 ($name) must be of type string, \(arguments[0].typeName) given"
            )
        default:
            name = ExpressionString(bytes: try phpString(of: arguments[0], scope: .silent)).description
        }
        let (value, classKnown) = values.withLock { table -> (ExpressionValue?, Bool) in
            if let value = table[name] {
                return (value, true)
            }
            guard let className = ConstantTable.className(in: name) else { return (nil, false) }
            return (nil, table.keys.contains { $0.hasPrefix(className + "::") })
        }
        if let value {
            return value
        }
        if let className = ConstantTable.className(in: name) {
            if !classKnown {
                throw ExpressionError(.error, "Class \"\(className)\" not found")
            }
            throw ExpressionError(.error, "Undefined constant \(name)")
        }
        throw ExpressionError(.error, "Undefined constant \"\(name)\"")
    }
}
