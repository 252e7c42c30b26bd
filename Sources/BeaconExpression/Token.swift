// SPDX-License-Identifier: Apache-2.0

/// A lexer token, as Symfony's `Token`.
struct Token: Sendable {
    /// Symfony's token types; the raw value is the name used in error messages.
    enum Kind: String, Sendable {
        case endOfExpression = "end of expression"
        case name
        case number
        case string
        case `operator`
        case punctuation
    }

    let kind: Kind
    /// The text for names, operators and punctuation; the unescaped bytes for strings.
    let bytes: [UInt8]
    /// The value of a number token.
    let number: PHPNumber?
    /// Symfony's cursor: the 1-based byte offset of the token.
    let position: Int

    /// Symfony's `Token::test($type, $value)`.
    func test(_ kind: Kind, _ value: String? = nil) -> Bool {
        guard self.kind == kind else { return false }
        guard let value else { return true }
        return bytes.elementsEqual(value.utf8)
    }

    /// Whether the token's value (of any type) is the given text, as Symfony's `'(' === $token->value`.
    func hasValue(_ value: String) -> Bool {
        kind != .number && kind != .endOfExpression && bytes.elementsEqual(value.utf8)
    }

    /// The value as PHP's `%s` prints it in messages.
    var valueBytes: [UInt8] {
        switch kind {
        case .endOfExpression: return []
        case .number:
            switch number {
            case .int(let value): return Array(String(value).utf8)
            case .float(let value): return phpFloatString(value)
            case nil: return []
            }
        default: return bytes
        }
    }

    /// The name or operator text as a Swift string.
    var text: String {
        String(decoding: bytes, as: UTF8.self)
    }
}
