// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

/// Precedence and associativity, read back through Symfony's fully parenthesised dump.
@Suite("Parser")
struct ParserTests {
    static let dumps: [(String, String)] = [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("-2 ** 2", "((- 2) ** 2)"),
        ("2 ** 3 ** 2", "(2 ** (3 ** 2))"),
        ("not 1 + 2", "((not 1) + 2)"),
        ("!a == b", "((! a) == b)"),
        ("-a.b", "(- a.b)"),
        ("1 + 2 ~ 3", "(1 + (2 ~ 3))"),
        ("1 .. 3 ~ \"\"", "(1 .. (3 ~ \"\"))"),
        ("3 > 2 > 1", "((3 > 2) > 1)"),
        ("5 & 3 == 1", "(5 & (3 == 1))"),
        ("a or b and c", "(a or (b and c))"),
        ("a || b && c | a ^ b & c", "(a || (b && (c | (a ^ (b & c)))))"),
        ("a ?: b ?: c", "(a ? a : (b ? b : c))"),
        ("a ? b : c ? a : b", "(a ? b : (c ? a : b))"),
        ("a ? b", "(a ? b : null)"),
        ("a not in b", "(a not in b)"),
        ("a matches b", "(a matches b)"),
        ("[a, 1, \"x\"]", "[a, 1, \"x\"]"),
        ("{a: 1, \"b c\": 2, 3: 4}", "{\"a\": 1, \"b c\": 2, 3: 4}"),
        ("{0: a, 1: b}", "[a, b]"),
        ("a.b(1, c).d[0]", "a.b(1, c).d[0]"),
        ("constant(\"x\")", "constant(\"x\")"),
        ("\"1\"", "1"),
        ("\"a\\\"b\"", "\"a\\\"b\""),
        ("true and null", "(true and null)"),
        ("1.5 + 0.1", "(1.5 + 0.1)"),
    ]

    @Test("precedence and associativity", arguments: dumps)
    func dump(expression: String, expected: String) throws {
        let language = ExpressionLanguage()
        let parsed = try language.parse(expression, names: ["a", "b", "c"])
        #expect(parsed.description == expected)
    }

    @Test("word operators need their boundaries")
    func wordOperators() throws {
        let language = ExpressionLanguage()
        #expect(try language.parse("a and(b)", names: ["a", "b"]).description == "(a and b)")
        #expect(try language.parse("not", names: ["not"]).description == "not")
        #expect(try language.parse("a.not", names: ["a"]).description == "a.not")
        // After `.`, the operator `not in` is taken as a property name, so `b` is left over.
        let error = try #require(throws: ExpressionError.self) { try language.parse("a. not in b", names: ["a", "b"]) }
        #expect(
            error.message == "Unexpected token \"name\" of value \"b\" around position 11 for expression `a. not in b`."
        )
        #expect(throws: ExpressionError.self) { try language.parse("1 not  in [2]", names: []) }
    }

    @Test("a parsed expression records its text and sorted names")
    func metadata() throws {
        let parsed = try ExpressionLanguage().parse("b + a", names: ["b", "a", "b"])
        #expect(parsed.expression == "b + a")
        #expect(parsed.names == ["a", "b"])
    }
}
