// SPDX-License-Identifier: Apache-2.0

/// PHP's three-way comparison of doubles: equal gives 0, otherwise -1 or 1 (NaN is never smaller: 1).
@inline(__always)
private func threeWay(_ left: Double, _ right: Double) -> Int {
    left == right ? 0 : (left < right ? -1 : 1)
}

@inline(__always)
private func normalize(_ difference: Double) -> Int {
    difference > 0 ? 1 : (difference < 0 ? -1 : 0)
}

/// PHP 8's `compare_longs_to_string`.
private func compare(_ integer: Int, _ string: ExpressionString) -> Int {
    compare(integer, string, numeric: parseNumericString(string.bytes, allowErrors: false))
}

/// `compare_longs_to_string` with the string's numeric form already parsed.
private func compare(_ integer: Int, _ string: ExpressionString, numeric: NumericString?) -> Int {
    if let numeric {
        switch numeric.number {
        case .int(let other): return integer > other ? 1 : (integer < other ? -1 : 0)
        case .float(let other): return normalize(Double(integer) - other)
        }
    }
    return binaryCompare(Array(String(integer).utf8), string.bytes)
}

/// PHP 8's `compare_doubles_to_string`.
private func compare(_ double: Double, _ string: ExpressionString) -> Int {
    compare(double, string, numeric: parseNumericString(string.bytes, allowErrors: false))
}

/// `compare_doubles_to_string` with the string's numeric form already parsed.
private func compare(_ double: Double, _ string: ExpressionString, numeric: NumericString?) -> Int {
    if let numeric {
        switch numeric.number {
        case .int(let other): return normalize(double - Double(other))
        case .float(let other): return double == other ? 0 : normalize(double - other)
        }
    }
    return binaryCompare(phpFloatString(double), string.bytes)
}

/// PHP 8's `zendi_smart_strcmp`: numeric strings compare as numbers, others byte by byte.
func smartStringCompare(_ left: ExpressionString, _ right: ExpressionString) -> Int {
    if let first = parseNumericString(left.bytes, allowErrors: false),
        let second = parseNumericString(right.bytes, allowErrors: false)
    {
        if first.overflow != 0, first.overflow == second.overflow,
            first.number.doubleValue - second.number.doubleValue == 0
        {
            return binaryCompare(left.bytes, right.bytes)
        }
        switch (first.number, second.number) {
        case (.int(let a), .int(let b)):
            return a > b ? 1 : (a < b ? -1 : 0)
        case (.int(let a), .float(let b)):
            if second.overflow != 0 { return -second.overflow }
            return normalize(Double(a) - b)
        case (.float(let a), .int(let b)):
            if first.overflow != 0 { return first.overflow }
            return normalize(a - Double(b))
        case (.float(let a), .float(let b)):
            if a == b, !a.isFinite {
                return binaryCompare(left.bytes, right.bytes)
            }
            return normalize(a - b)
        }
    }
    return binaryCompare(left.bytes, right.bytes)
}

/// PHP 8's `zend_compare` (the `<=>` operator): -1, 0 or 1; 1 also means "uncomparable".
func phpCompare(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) -> Int {
    switch (left, right) {
    case (.int(let a), .int(let b)): return a > b ? 1 : (a < b ? -1 : 0)
    case (.float(let a), .int(let b)): return threeWay(a, Double(b))
    case (.int(let a), .float(let b)): return threeWay(Double(a), b)
    case (.float(let a), .float(let b)): return threeWay(a, b)
    case (.array(let a), .array(let b)): return compareArrays(a, b, scope: scope)
    case (.null, .null), (.null, .bool(false)), (.bool(false), .null), (.bool(false), .bool(false)),
        (.bool(true), .bool(true)):
        return 0
    case (.null, .bool(true)): return -1
    case (.bool(true), .null): return 1
    case (.string(let a), .string(let b)): return smartStringCompare(a, b)
    case (.null, .string(let b)): return b.isEmpty ? 0 : -1
    case (.string(let a), .null): return a.isEmpty ? 0 : 1
    case (.int(let a), .string(let b)): return compare(a, b)
    case (.string(let a), .int(let b)): return -compare(b, a)
    case (.float(let a), .string(let b)): return a.isNaN ? 1 : compare(a, b)
    case (.string(let a), .float(let b)): return b.isNaN ? 1 : -compare(b, a)
    case (.object, .null): return 1
    case (.null, .object): return -1
    case (.object(let a), .object(let b)):
        return a === b ? 0 : 1
    case (.object(let object), _):
        return compareObject(object, with: right, objectOnLeft: true, scope: scope)
    case (_, .object(let object)):
        return compareObject(object, with: left, objectOnLeft: false, scope: scope)
    default:
        break
    }
    // Remaining pairs involve a bool or null against a number, string or array, or an array against a scalar.
    switch (left, right) {
    case (.null, _), (.bool(false), _): return isTruthy(right) ? -1 : 0
    case (.bool(true), _): return isTruthy(right) ? 0 : 1
    case (_, .null), (_, .bool(false)): return isTruthy(left) ? 1 : 0
    case (_, .bool(true)): return isTruthy(left) ? 0 : -1
    case (.array, _): return 1
    case (_, .array): return -1
    default: return 1
    }
}

/// `zend_std_compare_objects` for an object against a non-object: the object is cast to the other type.
private func compareObject(
    _ object: any ExpressionObject,
    with value: ExpressionValue,
    objectOnLeft: Bool,
    scope: Scope
) -> Int {
    let cast: ExpressionValue
    switch value {
    case .bool:
        cast = .bool(true)
    case .int:
        scope.notice("Object of class \(object.className) could not be converted to int")
        cast = .int(1)
    case .float:
        scope.notice("Object of class \(object.className) could not be converted to float")
        cast = .float(1)
    case .string:
        guard let string = try? object.stringConversion() else { return objectOnLeft ? 1 : -1 }
        cast = .string(string)
    default:
        return objectOnLeft ? 1 : -1
    }
    return objectOnLeft ? phpCompare(cast, value, scope: scope) : phpCompare(value, cast, scope: scope)
}

/// `zend_compare_arrays`: by count, then each key of the left in order (missing key: uncomparable).
private func compareArrays(_ left: ExpressionArray, _ right: ExpressionArray, scope: Scope) -> Int {
    if left.count != right.count {
        return left.count > right.count ? 1 : -1
    }
    for position in 0..<left.count {
        guard let other = right.position(of: left.key(at: position)) else { return 1 }
        let result = phpCompare(left.value(at: position), right.value(at: other), scope: scope)
        if result != 0 {
            return result
        }
    }
    return 0
}

/// PHP's `==` between a float and a string, without formatting the float when the answer is known: a number
/// prints as a numeric string, so a non-numeric string can only equal `INF` or `-INF`.
private func equalsNumberString(_ double: Double, _ string: ExpressionString, numeric: NumericString?) -> Bool {
    if double.isNaN {
        return false
    }
    guard numeric != nil else {
        return double.isInfinite && string.bytes.elementsEqual((double < 0 ? "-INF" : "INF").utf8)
    }
    return compare(double, string, numeric: numeric) == 0
}

/// PHP's `==`.
func phpLooselyEquals(_ left: ExpressionValue, _ right: ExpressionValue, scope: Scope) -> Bool {
    switch (left, right) {
    case (.int(let integer), .string(let string)), (.string(let string), .int(let integer)):
        // An int prints as a numeric string, so it never equals a non-numeric one.
        guard let numeric = parseNumericString(string.bytes, allowErrors: false) else { return false }
        return compare(integer, string, numeric: numeric) == 0
    case (.float(let double), .string(let string)), (.string(let string), .float(let double)):
        return equalsNumberString(double, string, numeric: parseNumericString(string.bytes, allowErrors: false))
    case (.int(let a), .int(let b)): return a == b
    case (.float(let a), .float(let b)): return a == b
    case (.int(let a), .float(let b)): return Double(a) == b
    case (.float(let a), .int(let b)): return a == Double(b)
    case (.string(let a), .string(let b)):
        if a == b { return true }
        return smartStringCompare(a, b) == 0
    default:
        return phpCompare(left, right, scope: scope) == 0
    }
}

/// PHP's `===`: same type and value; arrays with the same keys in the same order; objects by identity.
func phpIdentical(_ left: ExpressionValue, _ right: ExpressionValue) -> Bool {
    switch (left, right) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.float(let a), .float(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)):
        guard a.count == b.count else { return false }
        for position in 0..<a.count {
            guard a.key(at: position) == b.key(at: position),
                phpIdentical(a.value(at: position), b.value(at: position))
            else { return false }
        }
        return true
    case (.object(let a), .object(let b)): return a === b
    default: return false
    }
}

/// PHP's loose `in_array($needle, $haystack)`.
func phpInArray(_ needle: ExpressionValue, _ haystack: ExpressionValue, scope: Scope) throws -> Bool {
    guard case .array(let array) = haystack else {
        throw ExpressionError(
            .typeError,
            "in_array(): Argument #2 ($haystack) must be of type array, \(haystack.typeName) given"
        )
    }
    if case .string(let string) = needle {
        // Parse the needle's numeric form once, not once per element.
        let numeric = parseNumericString(string.bytes, allowErrors: false)
        for value in array.values {
            switch value {
            case .int(let integer):
                if numeric != nil, compare(integer, string, numeric: numeric) == 0 { return true }
            case .float(let double):
                if equalsNumberString(double, string, numeric: numeric) { return true }
            default:
                if phpLooselyEquals(needle, value, scope: scope) { return true }
            }
        }
        return false
    }
    for value in array.values where phpLooselyEquals(needle, value, scope: scope) {
        return true
    }
    return false
}

extension ExpressionValue {
    /// PHP's loose comparison `==` (PHP 8 rules: `"abc" == 0` is false, `"1e3" == "1000"` is true).
    ///
    /// - Parameter other: The value on the right.
    /// - Returns: Whether PHP considers the values equal.
    public func looselyEquals(_ other: ExpressionValue) -> Bool {
        phpLooselyEquals(self, other, scope: .silent)
    }

    /// PHP's strict comparison `===`.
    ///
    /// - Parameter other: The value on the right.
    /// - Returns: Whether the values have the same type and value (objects: the same instance).
    public func isIdentical(to other: ExpressionValue) -> Bool {
        phpIdentical(self, other)
    }

    /// PHP's truthiness (`0`, `0.0`, `""`, `"0"`, `[]`, `null`, `false` are false).
    public var isTruthy: Bool {
        BeaconExpression.isTruthy(self)
    }
}
