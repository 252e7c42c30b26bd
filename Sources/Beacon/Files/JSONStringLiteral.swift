// SPDX-License-Identifier: Apache-2.0

/// The decoding of a JSON string literal (RFC 8259 section 7), shared by Beacon's document parser and the
/// backends' wire readers, which differ in what they build around strings but not in what a string is.
package enum JSONStringLiteral {
    /// Why a literal could not be decoded; the offset passed to ``decode(_:at:strict:)`` is then where.
    package enum Problem: Error, Equatable, Sendable {
        /// The input ended before the closing quote (at the end of the input).
        case unterminated
        /// A control character that must be escaped (at it).
        case controlCharacter
        /// A backslash followed by this byte, which starts no escape (at the byte).
        case invalidEscape(UInt8)
        /// `\u` not followed by four hexadecimal digits (at the first byte that is not one).
        case invalidHexDigits
        /// Strict only: a high surrogate escape not followed by a low one (after the high one).
        case missingLowSurrogate
        /// Strict only: a `\u` escape after a high surrogate that is not a low surrogate (after it).
        case invalidLowSurrogate
        /// Strict only: a low surrogate escape with no high one before it (after it).
        case loneLowSurrogate
        /// Strict only: the decoded bytes are not UTF-8 (after the closing quote).
        case invalidUTF8
    }

    /// Decodes the literal whose opening quote is at `offset`.
    ///
    /// A literal without escapes is decoded straight from the input. In strict mode (documents people write) a
    /// lone surrogate escape or bytes that are not UTF-8 are errors; otherwise (answers of servers) they become
    /// U+FFFD, as Foundation's decoder makes them.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - offset: The opening quote's offset; on return, the offset after the closing quote, or where the problem
    ///     is when decoding throws.
    ///   - strict: Whether lone surrogates and invalid UTF-8 are errors.
    /// - Returns: The string.
    /// - Throws: ``Problem``.
    package static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at offset: inout Int,
        strict: Bool
    ) throws(Problem) -> String {
        offset += 1  // "
        let start = offset
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "\""):
                let content = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                return try self.text(content, strict: strict)
            case UInt8(ascii: "\\"):
                return try self.decodeEscaped(bytes, from: start, at: &offset, strict: strict)
            case 0x00..<0x20:
                throw .controlCharacter
            default:
                offset += 1
            }
        }
        throw .unterminated
    }

    private static func decodeEscaped(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        at offset: inout Int,
        strict: Bool
    ) throws(Problem) -> String {
        var result = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return try result.withUnsafeBufferPointer { content throws(Problem) in
                    try self.text(content, strict: strict)
                }
            case UInt8(ascii: "\\"):
                offset += 1
                try self.decodeEscape(bytes, at: &offset, strict: strict, into: &result)
            case 0x00..<0x20:
                throw .controlCharacter
            default:
                result.append(byte)
                offset += 1
            }
        }
        throw .unterminated
    }

    /// Decodes the escape whose letter is at `offset` (the backslash is behind it).
    private static func decodeEscape(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at offset: inout Int,
        strict: Bool,
        into result: inout [UInt8]
    ) throws(Problem) {
        guard offset < bytes.count else { throw .unterminated }
        let escape = bytes[offset]
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
        case UInt8(ascii: "b"): result.append(0x08)
        case UInt8(ascii: "f"): result.append(0x0C)
        case UInt8(ascii: "n"): result.append(0x0A)
        case UInt8(ascii: "r"): result.append(0x0D)
        case UInt8(ascii: "t"): result.append(0x09)
        case UInt8(ascii: "u"):
            offset += 1
            var scalar = try self.hex4(bytes, at: &offset)
            if (0xD800..<0xDC00).contains(scalar) {
                if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                {
                    let resume = offset
                    offset += 2
                    let low = try self.hex4(bytes, at: &offset)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if strict {
                        throw .invalidLowSurrogate
                    } else {
                        offset = resume  // the next escape stands on its own
                    }
                } else if strict {
                    throw .missingLowSurrogate
                }
            } else if strict, (0xDC00..<0xE000).contains(scalar) {
                throw .loneLowSurrogate
            }
            // Only a lone surrogate is not a scalar; it becomes U+FFFD when not strict.
            result.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            return
        default:
            throw .invalidEscape(escape)
        }
        offset += 1
    }

    /// Four hexadecimal digits at `offset`, which moves past them.
    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at offset: inout Int) throws(Problem) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else { throw .invalidHexDigits }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .invalidHexDigits
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    private static func text(_ content: UnsafeBufferPointer<UInt8>, strict: Bool) throws(Problem) -> String {
        guard strict else { return String(decoding: content, as: UTF8.self) }
        guard let text = String(validating: content, as: UTF8.self) else { throw .invalidUTF8 }
        return text
    }
}
