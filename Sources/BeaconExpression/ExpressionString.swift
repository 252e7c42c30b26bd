// SPDX-License-Identifier: Apache-2.0

/// A PHP string: a sequence of bytes that need not be valid UTF-8.
///
/// Expressions such as `"\xff"` produce strings that are not UTF-8, so strings are kept as bytes.
/// Use ``string`` to get a Swift `String` when the bytes are valid UTF-8.
public struct ExpressionString: Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The bytes of the string.
    public var bytes: [UInt8]

    /// Creates a string from raw bytes.
    ///
    /// - Parameter bytes: The bytes, in any encoding.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Creates a string from the UTF-8 encoding of a Swift string.
    ///
    /// - Parameter string: The text.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// Creates a string from a string literal.
    ///
    /// - Parameter value: The literal text.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The text, or `nil` when the bytes are not valid UTF-8.
    public var string: String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// The text, with invalid UTF-8 sequences replaced by U+FFFD.
    public var description: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// Whether the string has no bytes.
    public var isEmpty: Bool { bytes.isEmpty }

    /// Orders strings byte by byte, as PHP's `strcmp`.
    ///
    /// - Parameters:
    ///   - lhs: The first string.
    ///   - rhs: The second string.
    /// - Returns: Whether `lhs` sorts before `rhs`.
    public static func < (lhs: ExpressionString, rhs: ExpressionString) -> Bool {
        binaryCompare(lhs.bytes, rhs.bytes) < 0
    }
}

/// PHP's `zend_binary_strcmp`, normalised to -1, 0 or 1.
func binaryCompare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
    let shared = min(lhs.count, rhs.count)
    var index = 0
    while index < shared {
        let left = lhs[index]
        let right = rhs[index]
        if left != right {
            return left < right ? -1 : 1
        }
        index += 1
    }
    if lhs.count == rhs.count {
        return 0
    }
    return lhs.count < rhs.count ? -1 : 1
}
