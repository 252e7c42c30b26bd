// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

/// Symfony's token rules, observed through the parsed tree (`description` is Symfony's dump).
@Suite("Lexer")
struct LexerTests {
    static let tokens: [(String, String)] = [
        ("1..3", "(1 .. 3)"),
        ("1.5..3", "(1.5 .. 3)"),
        ("1e-2", "0.01"),
        ("1E+2", "100"),
        ("007", "7"),
        ("9223372036854775807", "9223372036854775807"),
        ("9223372036854775808", "9223372036854775807"),
        ("'a' ~ \"b\"", "(\"a\" ~ \"b\")"),
        ("a not in b", "(a not in b)"),
        ("a in(b)", "(a in b)"),
        ("not(a)", "(not a)"),
        ("a and not b", "(a and (not b))"),
        ("a&&b||a", "((a && b) || a)"),
        ("a===b", "(a === b)"),
        ("a!==b", "(a !== b)"),
        ("a**b", "(a ** b)"),
        ("a matches b", "(a matches b)"),
        ("a.not", "a.not"),
        ("a.matches(b)", "a.matches(b)"),
        ("a. matches", "a.matches"),
        ("a.and.or", "a.and.or"),
        ("café", "café"),
        ("_x1", "_x1"),
        ("\"\\t\"", "\"\\t\""),
        ("\"a\\\\b\"", "\"a\\\\b\""),
        ("\"\\x41\\102\"", "\"AB\""),
        ("\"$a\"", "\"$a\""),
        ("\"12\"", "12"),
        ("TRUE", "true"),
        ("NULL", "null"),
        ("a\r\n+\tb", "(a + b)"),
    ]

    @Test("tokens", arguments: tokens)
    func token(expression: String, dump: String) throws {
        let names = ["a", "b", "café", "_x1", "x"]
        #expect(try ExpressionLanguage().parse(expression, names: names).description == dump)
    }

    static let errors: [(String, String)] = [
        ("1e3", "Unexpected token \"name\" of value \"e3\" around position 2 for expression `1e3`."),
        (
            "a not  in b",
            "Unexpected token \"operator\" of value \"not\" around position 3 for expression `a not  in b`."
        ),
        ("a and!b", "Unexpected token \"name\" of value \"and\" around position 3 for expression `a and!b`."),
        ("a in", "Unexpected token \"name\" of value \"in\" around position 3 for expression `a in`."),
        ("matchesx", "Unexpected token \"operator\" of value \"matches\" around position 1 for expression `matchesx`."),
        ("'abc", "Unexpected character \"'\" around position 0 for expression `'abc`."),
        ("\"a\\\"", "Unexpected character \"\"\" around position 0 for expression `\"a\\\"`."),
        ("a # b", "Unexpected character \"#\" around position 2 for expression `a # b`."),
        ("a ; b", "Unexpected character \";\" around position 2 for expression `a ; b`."),
        ("a @ b", "Unexpected character \"@\" around position 2 for expression `a @ b`."),
        ("(]", "Unclosed \"(\" around position 0 for expression `(]`."),
        ("[(])", "Unclosed \"(\" around position 1 for expression `[(])`."),
        ("a)", "Unexpected \")\" around position 1 for expression `a)`."),
        ("{{}", "Unclosed \"{\" around position 0 for expression `{{}`."),
    ]

    @Test("lexer errors", arguments: errors)
    func error(expression: String, message: String) {
        let error = #expect(throws: ExpressionError.self) {
            try ExpressionLanguage().parse(expression, names: ["a", "b", "x"])
        }
        #expect(error?.message == message)
    }
}
