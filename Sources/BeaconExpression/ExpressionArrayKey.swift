// SPDX-License-Identifier: Apache-2.0

/// A key of a PHP array: an integer or a string.
///
/// PHP stores a string key that is the canonical decimal form of an integer (`"1"`, `"-5"`, but not
/// `"01"` or `"1.0"`) as that integer; ``init(normalizing:)`` applies the same rule.
public enum ExpressionArrayKey: Sendable, Hashable, CustomStringConvertible {
    /// An integer key.
    case int(Int)
    /// A string key.
    case string(ExpressionString)

    /// Creates a key from a string, turning canonical decimal integers into integer keys as PHP does.
    ///
    /// - Parameter string: The key text.
    public init(normalizing string: ExpressionString) {
        if let integer = canonicalInteger(string.bytes) {
            self = .int(integer)
        } else {
            self = .string(string)
        }
    }

    /// The key as PHP would print it.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value.description
        }
    }

    /// The key as a value.
    public var value: ExpressionValue {
        switch self {
        case .int(let value): .int(value)
        case .string(let value): .string(value)
        }
    }
}

/// Returns the integer a string denotes when it is a canonical decimal integer within range (PHP's
/// `ZEND_HANDLE_NUMERIC_STR`), otherwise `nil`.
func canonicalInteger(_ bytes: [UInt8]) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var index = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        index = 1
        guard bytes.count > 1 else { return nil }
    }
    let first = bytes[index]
    guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
    if first == UInt8(ascii: "0") {
        // "0" is canonical, "-0" and "01" are not.
        return (bytes.count == 1) ? 0 : nil
    }
    var magnitude: UInt64 = 0
    while index < bytes.count {
        let byte = bytes[index]
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let (product, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = product.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
        guard !overflow1, !overflow2 else { return nil }
        magnitude = sum
        index += 1
    }
    if negative {
        guard magnitude <= UInt64(Int.max) + 1 else { return nil }
        return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
    }
    guard magnitude <= UInt64(Int.max) else { return nil }
    return Int(magnitude)
}
