// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import BeaconLocks
import Testing

/// Every example of Documentation/Expressions.md, checked.
@Suite("Documentation examples")
struct DocumentationTests {
    @Test("quick start")
    func quickStart() throws {
        let language = ExpressionLanguage()
        language.register("double") { arguments in
            try ExpressionLanguage.add(arguments.first ?? .null, arguments.first ?? .null)
        }
        let parsed = try language.parse("double(x) + 1", names: ["x"])
        #expect(try parsed.evaluate(values: ["x": 20]) == .int(41))
        #expect(try parsed.evaluate(values: ["x": "2.5"]) == .float(6.0))
        #expect(try language.evaluate("1 + 2 * 3 > 4 and x in [1, 2, 3]", values: ["x": 2]) == .bool(true))
    }

    static let examples: [(String, ExpressionValue)] = [
        ("42", 42), ("007", 7), ("3.5", 3.5), ("1e-2", 0.01), ("1.99E+3", 1990.0),
        ("9223372036854775808", .int(Int.max)), ("99999999999999999999", 1e20),
        ("\"a\\nb\"", "a\nb"), ("\"\\x41\"", "A"), ("\"\\101\"", "A"), ("\"\\q\"", "q"),
        ("\"\\xff\"", .string(ExpressionString(bytes: [0xFF]))), ("\"a\nb\"", "a b"),
        ("[1, 2, 3,]", [1, 2, 3]),
        (
            "{a: 1, \"b c\": 2, 3: \"x\", (1 + 1): \"two\"}",
            .array(
                ExpressionArray(entries: [(.string("a"), 1), (.string("b c"), 2), (.int(3), "x"), (.int(2), "two")])
            )
        ),
        ("{\"1\": \"x\"}", .array(ExpressionArray(entries: [(.int(1), "x")]))),
        ("{\"01\": \"x\"}", ["01": "x"]),
        ("{(true): 1}", .array(ExpressionArray(entries: [(.int(1), 1)]))),
        ("{a: 1, b: 2, a: 3}", ["a": 3, "b": 2]),
        ("-2 ** 2", 4), ("not 1 + 2", 2), ("1 + 2 ~ 3", 24), ("3 > 2 > 1", false), ("5 & 3 == 1", 0),
        ("true and(false)", false),
        ("6 / 3", 2), ("7 / 2", 3.5), ("1 == 1.0", true), ("1 === 1.0", false),
        ("2 ** 63", 9.223372036854775808e18), ("2 ** 10", 1024), ("2 ** -1", 0.5), ("-7 % 3", -1),
        ("\"3\" + 4", 7), ("\"1e2\" + 0", 100.0), ("\" 5\" + 1", 6), ("\"5 \" + 1", 6), ("\"5 apples\" + 1", 6),
        ("true + 1", 2), ("null + 1", 1), ("-\"5\"", -5), ("-null", 0), ("+\"5\"", "5"),
        ("{a: 1} + {a: 2, b: 3}", ["a": 1, "b": 3]), ("\"a\" | \"b\"", "c"),
        ("\"abc\" == 0", false), ("1 < \"a\"", true), ("\"1e3\" == \"1000\"", true), ("\"10\" < \"9\"", false),
        ("\"10\" < \"9a\"", true), ("null < -1", true), ("[1, 2, 3] > [5, 6]", true),
        ("[1, 2] == {1: 2, 0: 1}", true), ("[1, 2] === {1: 2, 0: 1}", false),
        ("(0.1 + 0.2) ~ \"\"", "0.3"), ("(1 / 3) ~ \"\"", "0.33333333333333"),
        ("(2 ** 63) ~ \"\"", "9.2233720368548E+18"), ("1.0 ~ \"\"", "1"), ("0.00001 ~ \"\"", "1.0E-5"),
        ("true ~ \"\"", "1"), ("false ~ \"\"", ""), ("null ~ \"\"", ""),
        ("\"1\" in [1, 2]", true), ("null in [0]", true), ("0 in [\"a\"]", false), ("\"a\" in {a: \"b\"}", false),
        ("\"foo\" matches \"/^F/i\"", 1), ("\"héllo\" matches \"/^h.llo$/\"", 0),
        ("\"héllo\" matches \"/^h.llo$/u\"", 1),
        ("3..1", [3, 2, 1]), ("\"a\"..\"c\"", ["a", "b", "c"]), ("1.5..3", [1.5, 2.5]),
        ("not \"0.0\"", false), ("not \" \"", false), ("not []", true), ("\"a\" and \"b\"", true),
    ]

    @Test("values in the text", arguments: examples)
    func example(expression: String, expected: ExpressionValue) throws {
        #expect(try ExpressionLanguage().evaluate(expression) == expected)
    }

    @Test("variables, properties, methods, items and functions")
    func access() throws {
        #expect(try TestWorld.evaluate("conf.GETHOST()") == "10.0.0.1")
        #expect(try TestWorld.evaluate("conf.not") == "prop-not")
        #expect(try TestWorld.evaluate("constant(\"M_PI\")") == .float(Double.pi))
        let language = ExpressionLanguage()
        language.defineConstant("Conf::DEFAULT_PORT", value: 11211)
        #expect(try language.evaluate("constant(\"Conf::DEFAULT_PORT\")") == 11211)
        let error = try #require(throws: ExpressionError.self) { try language.parse("nmae", names: ["name", "user"]) }
        #expect(
            error.message
                == "Variable \"nmae\" is not valid around position 1 for expression `nmae`. Did you mean \"name\"?"
        )
        #expect(try language.parse("1 + 2 * 3", names: []).description == "(1 + (2 * 3))")
    }

    @Test(
        "unsupported syntax of later Symfony versions",
        arguments: [
            "a?.b", "a ?? b", "a starts with b", "a xor b", "1 << 2", "1_000", ".5", "/* c */ 1", "1 <=> 2", "a = b",
        ]
    )
    func laterSyntax(expression: String) {
        #expect(throws: ExpressionError.self) { try ExpressionLanguage().parse(expression, names: ["a", "b"]) }
    }

    final class MemcachedConfiguration: ExpressionObject {
        let className = "MemcachedConfiguration"
        let host = "10.0.0.1"
        let port = 11211

        func property(named name: String) throws -> ExpressionValue? {
            switch name {
            case "host": .string(host)
            case "port": .int(port)
            default: nil
            }
        }

        func hasMethod(named lowercasedName: String) -> Bool {
            lowercasedName == "getmemcached"
        }

        func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
            .string("memcached:\(host):\(port)")
        }
    }

    @Test("Swift objects")
    func objects() throws {
        let language = ExpressionLanguage()
        let configuration = MemcachedConfiguration()
        language.register("service") { _ in .object(configuration) }
        #expect(try language.evaluate("service('conf').getMemcached()") == "memcached:10.0.0.1:11211")
        #expect(try language.evaluate("service('conf').GETMEMCACHED()") == "memcached:10.0.0.1:11211")
        #expect(try language.evaluate("service('conf').port + 1") == 11212)
    }

    @Test("errors and diagnostics")
    func errors() throws {
        let language = ExpressionLanguage()
        #expect(
            throws: ExpressionError(
                .syntaxError,
                "Unexpected token \"operator\" of value \"/\" around position 1 for expression `/* comment */ 1`.",
                position: 1
            )
        ) {
            try language.parse("/* comment */ 1", names: [])
        }
        #expect(
            throws: ExpressionError(
                .runtimeError,
                "Unable to get property \"name\" of non-object \"user\"."
            )
        ) {
            try language.evaluate("user.name", values: ["user": ["name": "Ann"]])
        }
        #expect(throws: ExpressionError(.divisionByZero, "Division by zero.")) {
            try language.evaluate("1 / 0")
        }
        #expect(throws: ExpressionError(.typeError, "Unsupported operand types: string + int")) {
            try language.evaluate("\"abc\" + 1")
        }
        #expect(
            throws: ExpressionError(
                .argumentCountError,
                "constant() expects exactly 1 argument, 0 given"
            )
        ) {
            try language.evaluate("constant()")
        }
        #expect(
            throws: ExpressionError(
                .valueError,
                "range(): Argument #3 ($step) must not exceed the specified range"
            )
        ) {
            try language.evaluate("0..0.5")
        }
        #expect(throws: ExpressionError(.error, "Undefined constant \"NOPE\"")) {
            try language.evaluate("constant(\"NOPE\")")
        }
        let deep = String(repeating: "(", count: 257) + "1" + String(repeating: ")", count: 257)
        let nesting = try #require(throws: ExpressionError.self) { try language.parse(deep, names: []) }
        #expect(nesting.code == .nestingTooDeep)

        let parsed = try language.parse("user['nickname'] ~ '!'", names: ["user"])
        let diagnostics = Lock<[String]>([])
        let value = try parsed.evaluate(values: ["user": ["name": "Ann"]]) { diagnostic in
            diagnostics.withLock { $0.append(diagnostic.description) }
        }
        #expect(value == "!")
        #expect(diagnostics.withLock { $0 } == ["E_WARNING: Undefined array key \"nickname\""])
    }
}

extension DocumentationTests {
    @Test("objects against scalars compare as PHP's casts")
    func objectComparisons() throws {
        #expect(try TestWorld.evaluate("conf == conf") == true)
        #expect(try TestWorld.evaluate("conf == true") == true)
        let (value, diagnostics) = try TestWorld.evaluateCollecting("conf == 1")
        #expect(value == true)
        #expect(diagnostics.map(\.message) == ["Object of class Conf could not be converted to int"])
        #expect(try TestWorld.evaluate("service(\"mailer\") == mailer") == false)
    }
}
