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
    /// The text of operators and punctuation (shared constants, so lexing them allocates nothing).
    let symbol: String
    /// The bytes of names; the unescaped bytes of strings; empty otherwise.
    let bytes: [UInt8]
    /// The value of a number token.
    let number: PHPNumber?
    /// Symfony's cursor: the 1-based byte offset of the token.
    let position: Int

    init(kind: Kind, symbol: String = "", bytes: [UInt8] = [], number: PHPNumber? = nil, position: Int) {
        self.kind = kind
        self.symbol = symbol
        self.bytes = bytes
        self.number = number
        self.position = position
    }

    /// Symfony's `Token::test($type, $value)`.
    func test(_ kind: Kind, _ value: String? = nil) -> Bool {
        guard self.kind == kind else { return false }
        guard let value else { return true }
        return kind == .operator || kind == .punctuation ? symbol == value : bytes.elementsEqual(value.utf8)
    }

    /// Whether the token's value (of any type) is the given text, as Symfony's `'(' === $token->value`.
    func hasValue(_ value: String) -> Bool {
        switch kind {
        case .operator, .punctuation: symbol == value
        case .name, .string: bytes.elementsEqual(value.utf8)
        case .number, .endOfExpression: false
        }
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
        case .operator, .punctuation: return Array(symbol.utf8)
        case .name, .string: return bytes
        }
    }

    /// The text of a name, operator or punctuation token.
    var text: String {
        kind == .operator || kind == .punctuation ? symbol : String(decoding: bytes, as: UTF8.self)
    }
}
