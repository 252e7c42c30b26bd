// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

/// Symfony's exact syntax error messages and positions.
@Suite("Syntax errors")
struct SyntaxErrorTests {
    static let cases: [(String, String, Int)] = [
        ("1e3", "Unexpected token \"name\" of value \"e3\" around position 2 for expression `1e3`.", 2),
        ("1.2.3", "Unexpected token \"punctuation\" of value \".\" around position 4 for expression `1.2.3`.", 4),
        (".5", "Unexpected token \"punctuation\" of value \".\" around position 1 for expression `.5`.", 1),
        ("\"abc", "Unexpected character \"\"\" around position 0 for expression `\"abc`.", 0),
        ("$x", "Unexpected character \"$\" around position 0 for expression `$x`.", 0),
        ("a = 1", "Unexpected character \"=\" around position 2 for expression `a = 1`.", 2),
        (")", "Unexpected \")\" around position 0 for expression `)`.", 0),
        ("(1", "Unclosed \"(\" around position 0 for expression `(1`.", 0),
        ("{a: 1]", "Unclosed \"{\" around position 0 for expression `{a: 1]`.", 0),
        ("", "Unexpected token \"end of expression\" of value \"\" around position 1.", 1),
        ("1 +", "Unexpected token \"end of expression\" of value \"\" around position 4 for expression `1 +`.", 4),
        ("a.", "Unexpected end of expression around position 3 for expression `a.`.", 3),
        ("a.123", "Expected name around position 3 for expression `a.123`.", 3),
        (
            "true and!false",
            "Unexpected token \"name\" of value \"and\" around position 6 for expression `true and!false`.", 6
        ),
        (
            "matchesCount",
            "Unexpected token \"operator\" of value \"matches\" around position 1 for expression `matchesCount`.", 1
        ),
        ("a ?? b", "Unexpected token \"punctuation\" of value \"?\" around position 4 for expression `a ?? b`.", 4),
        ("1 <=> 2", "Unexpected token \"operator\" of value \">\" around position 5 for expression `1 <=> 2`.", 5),
        ("a xor b", "Unexpected token \"name\" of value \"xor\" around position 3 for expression `a xor b`.", 3),
        ("1 2.5", "Unexpected token \"number\" of value \"2.5\" around position 3 for expression `1 2.5`.", 3),
        (
            "{ in : 1}",
            "A hash key must be a quoted string, a number, a name, or an expression enclosed in parentheses "
                + "(unexpected token \"operator\" of value \"in\" around position 3 for expression `{ in : 1}`.", 3
        ),
        (
            "[1 2]",
            "An array element must be followed by a comma. Unexpected token \"number\" of value \"2\" "
                + "(\"punctuation\" expected with value \",\") around position 4 for expression `[1 2]`.", 4
        ),
        (
            "{a 1}",
            "A hash key must be followed by a colon (:). Unexpected token \"number\" of value \"1\" "
                + "(\"punctuation\" expected with value \":\") around position 4 for expression `{a 1}`.", 4
        ),
        (
            "constant(\"A\" \"B\")",
            "Arguments must be separated by a comma. Unexpected token \"string\" of value \"B\" "
                + "(\"punctuation\" expected with value \",\") around position 14 for expression `constant(\"A\" \"B\")`.",
            14
        ),
        ("nope", "Variable \"nope\" is not valid around position 1 for expression `nope`. Did you mean \"node\"?", 1),
        ("A", "Variable \"A\" is not valid around position 1 for expression `A`. Did you mean \"a\"?", 1),
        (
            "servce(\"conf\")",
            "The function \"servce\" does not exist around position 1 for expression `servce(\"conf\")`. "
                + "Did you mean \"service\"?", 1
        ),
        (
            "zzzzzz()",
            "The function \"zzzzzz\" does not exist around position 1 for expression `zzzzzz()`.", 1
        ),
    ]

    /// Cases from Symfony's own parser tests.
    static let symfonyParserCases: [(String, String)] = [
        (
            "foo[\"some_key\"] // 2",
            "Unexpected token \"operator\" of value \"/\" around position 18 for expression `foo[\"some_key\"] // 2`."
        ),
        ("foo[]", "Unexpected token \"punctuation\" of value \"]\" around position 5 for expression `foo[]`."),
        (
            "foo[(bar ? bar : \"default\"]",
            "Unclosed \"(\" around position 4 for expression `foo[(bar ? bar : \"default\"]`."
        ),
        ("{key => foo}", "Unexpected character \"=\" around position 5 for expression `{key => foo}`."),
        (
            "[foo: foo]",
            "An array element must be followed by a comma. Unexpected token \"punctuation\" of value \":\" "
                + "(\"punctuation\" expected with value \",\") around position 5 for expression `[foo: foo]`."
        ),
        (
            "[value1, value2 value3]",
            "An array element must be followed by a comma. Unexpected token \"name\" of value \"value3\" "
                + "(\"punctuation\" expected with value \",\") around position 17 for expression `[value1, value2 value3]`."
        ),
        (
            "foo > bar",
            "Variable \"bar\" is not valid around position 7 for expression `foo > bar`. Did you mean \"baz\"?"
        ),
        ("foo.\"bar\"", "Expected name around position 5 for expression `foo.\"bar\"`."),
        ("foo()", "The function \"foo\" does not exist around position 1 for expression `foo()`."),
    ]

    @Test("Symfony's parser test cases", arguments: symfonyParserCases)
    func symfonyParser(expression: String, message: String) {
        let error = #expect(throws: ExpressionError.self) {
            try ExpressionLanguage().parse(
                expression,
                names: ["foo", "baz", "bar", "value1", "value2", "value3"].filter {
                    !(expression == "foo > bar" && $0 == "bar")
                }
            )
        }
        #expect(error?.message == message)
    }

    @Test("messages and positions", arguments: cases)
    func message(expression: String, message: String, position: Int) {
        let error = TestWorld.error(expression)
        #expect(error?.code == .syntaxError)
        #expect(error?.message == message)
        #expect(error?.position == position)
    }

    @Test("line breaks and tabs become spaces before lexing, also in the message")
    func whitespace() {
        let error = TestWorld.error("1 +\n\t")
        #expect(
            error?.message
                == "Unexpected token \"end of expression\" of value \"\" around position 6 for expression `1 +  `."
        )
    }

    @Test("unknown variables are rejected at parse time, even in a branch never taken")
    func parseTimeNames() throws {
        let language = ExpressionLanguage()
        #expect(throws: ExpressionError.self) { try language.parse("true or missing", names: ["a"]) }
        #expect(throws: Never.self) { try language.parse("true or a", names: ["a"]) }
    }
}
