// SPDX-License-Identifier: Apache-2.0

/// A PHP value, as expressions produce and consume them.
///
/// `int` and `float` are distinct (`6 / 3` is `.int(2)`, `7 / 2` is `.float(3.5)`), strings are bytes, and
/// arrays are ordered maps with PHP's key rules. The `==` operator of this type is structural equality
/// (same type and same value, floats by bit pattern so `NAN == NAN`), meant for tests; the PHP comparisons
/// are ``looselyEquals(_:)`` (PHP `==`) and ``isIdentical(to:)`` (PHP `===`).
public enum ExpressionValue: Sendable {
    /// PHP `null`.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer.
    case int(Int)
    /// A double-precision float.
    case float(Double)
    /// A byte string.
    case string(ExpressionString)
    /// An ordered map (PHP array), also used for lists.
    indirect case array(ExpressionArray)
    /// An object.
    case object(any ExpressionObject)
}

extension ExpressionValue {
    /// Creates a string value from a Swift string.
    ///
    /// - Parameter text: The text.
    /// - Returns: The string value.
    public static func string(_ text: String) -> ExpressionValue {
        .string(ExpressionString(text))
    }

    /// Creates a list value.
    ///
    /// - Parameter values: The elements, in order.
    /// - Returns: The array value with keys `0..<count`.
    public static func list(_ values: [ExpressionValue]) -> ExpressionValue {
        .array(ExpressionArray(list: values))
    }

    /// Creates an ordered-map value from string keys (normalised as PHP keys: `"1"` becomes `1`).
    ///
    /// - Parameter entries: The pairs, in order.
    /// - Returns: The array value.
    public static func map(_ entries: KeyValuePairs<String, ExpressionValue>) -> ExpressionValue {
        var array = ExpressionArray()
        for (key, value) in entries {
            array[ExpressionArrayKey(normalizing: ExpressionString(key))] = value
        }
        return .array(array)
    }

    /// PHP's type name of the value, as used in `TypeError` messages (`int`, `string`, `Conf`...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .array: "array"
        case .object(let object): object.className
        }
    }

    /// Whether the value is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension ExpressionValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// Creates `null`.
    ///
    /// - Parameter nilLiteral: The literal.
    public init(nilLiteral: ()) { self = .null }

    /// Creates a boolean.
    ///
    /// - Parameter value: The literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Creates an integer.
    ///
    /// - Parameter value: The literal.
    public init(integerLiteral value: Int) { self = .int(value) }

    /// Creates a float.
    ///
    /// - Parameter value: The literal.
    public init(floatLiteral value: Double) { self = .float(value) }

    /// Creates a string.
    ///
    /// - Parameter value: The literal.
    public init(stringLiteral value: String) { self = .string(ExpressionString(value)) }

    /// Creates a list.
    ///
    /// - Parameter elements: The literal's elements.
    public init(arrayLiteral elements: ExpressionValue...) { self = .array(ExpressionArray(list: elements)) }

    /// Creates an ordered map; string keys are normalised as PHP keys.
    ///
    /// - Parameter elements: The literal's pairs.
    public init(dictionaryLiteral elements: (String, ExpressionValue)...) {
        var array = ExpressionArray()
        for (key, value) in elements {
            array[ExpressionArrayKey(normalizing: ExpressionString(key))] = value
        }
        self = .array(array)
    }
}

extension ExpressionValue: Equatable {
    /// Structural equality: same case and same value; floats by bit pattern; arrays by ordered keys and
    /// values; objects by identity. This is not PHP's `==`: see ``looselyEquals(_:)``.
    ///
    /// - Parameters:
    ///   - lhs: A value.
    ///   - rhs: Another value.
    /// - Returns: Whether the two are the same.
    public static func == (lhs: ExpressionValue, rhs: ExpressionValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let left), .bool(let right)): return left == right
        case (.int(let left), .int(let right)): return left == right
        case (.float(let left), .float(let right)): return left.bitPattern == right.bitPattern
        case (.string(let left), .string(let right)): return left == right
        case (.array(let left), .array(let right)):
            guard left.count == right.count else { return false }
            for position in 0..<left.count {
                guard left.key(at: position) == right.key(at: position),
                    left.value(at: position) == right.value(at: position)
                else { return false }
            }
            return true
        case (.object(let left), .object(let right)): return left === right
        default: return false
        }
    }
}

extension ExpressionValue: CustomStringConvertible, CustomDebugStringConvertible {
    /// The value converted to a string as PHP's `(string)` would, without warnings (`Array` for arrays).
    public var description: String {
        switch self {
        case .array: return "Array"
        case .object(let object): return "\(object.className) object"
        default: return ExpressionString(bytes: (try? phpString(of: self, warn: { _ in })) ?? []).description
        }
    }

    /// A typed rendering for humans, such as `int(3)`, `string("a")`.
    public var debugDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "bool(\(value))"
        case .int(let value): return "int(\(value))"
        case .float(let value): return "float(\(phpRepr(value)))"
        case .string(let value): return "string(\"\(value.description)\")"
        case .array(let value): return "array\(value.description)"
        case .object(let object): return "object(\(object.className))"
        }
    }
}
