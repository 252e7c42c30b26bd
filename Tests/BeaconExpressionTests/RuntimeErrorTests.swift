// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import ExpressionCorpusSupport
import Testing

/// Errors raised while evaluating, with Symfony's texts (and PHP's kinds).
@Suite("Runtime errors")
struct RuntimeErrorTests {
    static let symfonyMessages: [(String, ExpressionError.Code, String)] = [
        ("user.name", .runtimeError, "Unable to get property \"name\" of non-object \"user\"."),
        ("conf.getNull().x", .runtimeError, "Unable to get property \"x\" of non-object \"conf.getNull()\"."),
        ("items[0].foo", .runtimeError, "Unable to get property \"foo\" of non-object \"items[0]\"."),
        (
            "user[\"address\"].city", .runtimeError,
            "Unable to get property \"city\" of non-object \"user[\"address\"]\"."
        ),
        ("{\"a\": \"x\"}.foo", .runtimeError, "Unable to get property \"foo\" of non-object \"{\"a\": \"x\"}\"."),
        ("[1, 2].foo", .runtimeError, "Unable to get property \"foo\" of non-object \"[1, 2]\"."),
        ("(1 + a).foo", .runtimeError, "Unable to get property \"foo\" of non-object \"(1 + a)\"."),
        ("nul.x()", .runtimeError, "Unable to call method \"x\" of non-object \"nul\"."),
        ("conf.nope()", .runtimeError, "Unable to call method \"nope\" of object \"Conf\"."),
        ("s[0]", .runtimeError, "Unable to get an item of non-array \"s\"."),
        ("nul[0]", .runtimeError, "Unable to get an item of non-array \"nul\"."),
        ("1 / 0", .divisionByZero, "Division by zero."),
        ("1 / 0.0", .divisionByZero, "Division by zero."),
        ("1 % 0", .divisionByZero, "Modulo by zero."),
        ("1 % \"0\"", .divisionByZero, "Modulo by zero."),
        ("5 % 0.5", .divisionByZero, "Modulo by zero"),
        (
            "\"foo\" matches \"/(/\"", .syntaxError,
            "Regexp \"/(/\" passed to \"matches\" is not valid: Compilation failed: missing closing parenthesis at "
                + "offset 1 around position 0."
        ),
        (
            "\"foo\" matches \"abc\"", .syntaxError,
            "Regexp \"abc\" passed to \"matches\" is not valid: Delimiter must not be alphanumeric, backslash, or NUL "
                + "around position 0."
        ),
        (
            "\"foo\" matches \"/a\"", .syntaxError,
            "Regexp \"/a\" passed to \"matches\" is not valid: No ending delimiter '/' found around position 0."
        ),
        (
            "\"foo\" matches \"/a/k\"", .syntaxError,
            "Regexp \"/a/k\" passed to \"matches\" is not valid: Unknown modifier 'k' around position 0."
        ),
        (
            "\"foo\" matches \"\"", .syntaxError,
            "Regexp \"\" passed to \"matches\" is not valid: Empty regular expression around position 0."
        ),
    ]

    @Test("Symfony's messages", arguments: symfonyMessages)
    func symfony(expression: String, code: ExpressionError.Code, message: String) {
        let error = TestWorld.error(expression)
        #expect(error?.code == code)
        #expect(error?.message == message)
    }

    static let phpKinds: [(String, ExpressionError.Code)] = [
        ("\"abc\" + 1", .typeError),
        ("\"\" + 1", .typeError),
        ("-\"abc\"", .typeError),
        ("[1] + 1", .typeError),
        ("conf * 2", .typeError),
        ("\"a\" in \"abc\"", .typeError),
        ("1 not in nul", .typeError),
        ("0..0.5", .valueError),
        ("conf.secret", .error),
        ("conf ~ \"\"", .error),
        ("constant(\"NOPE_CONST\")", .error),
        ("constant(\"Conf::NOPE\")", .error),
        ("constant()", .argumentCountError),
        ("conf.add(1)", .argumentCountError),
        ("nul matches nul", .typeError),
        ("{(items): 1}", .typeError),
    ]

    @Test("PHP's error kinds", arguments: phpKinds)
    func php(expression: String, code: ExpressionError.Code) {
        #expect(TestWorld.error(expression)?.code == code)
    }

    @Test("errors of functions and objects propagate unchanged")
    func propagation() throws {
        #expect(throws: FixtureError(className: "RuntimeException", message: "Conf::fail() was called")) {
            try TestWorld.evaluate("true and conf.fail()")
        }
        #expect(try TestWorld.evaluate("false and conf.fail()") == false)
        let error = try #require(throws: FixtureError.self) { try TestWorld.evaluate("service(\"nope\")") }
        #expect(error.message == "You have requested a non-existent service \"nope\".")
    }
}
