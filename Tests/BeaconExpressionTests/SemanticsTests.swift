// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

/// PHP 8 value semantics, one expression at a time, with the corpus's variable pool.
@Suite("PHP value semantics")
struct SemanticsTests {
    static let arithmeticCases: [(String, ExpressionValue)] = [
        ("6 / 3", .int(2)),
        ("7 / 2", .float(3.5)),
        ("2 ** 10", .int(1024)),
        ("2 ** 63", .float(9.223372036854775808e18)),
        ("2 ** -1", .float(0.5)),
        ("big * 2", .float(1.8446744073709552e19)),
        ("big + 1", .float(9.223372036854775808e18)),
        ("-big - 2", .float(-9.223372036854775808e18)),
        ("-2 ** 2", .int(4)),
        ("2 ** 3 ** 2", .int(512)),
        ("7 % 3", .int(1)),
        ("-7 % 3", .int(-1)),
        ("7 % -3", .int(1)),
        ("7.5 % 2", .int(1)),
        ("\"3\" + 4", .int(7)),
        ("\"1e2\" + 0", .float(100)),
        ("\" 5\" + 1", .int(6)),
        ("\"5 \" + 1", .int(6)),
        ("\"5 apples\" + 1", .int(6)),
        ("true + 1", .int(2)),
        ("null + 1", .int(1)),
        ("numstr * 2", .int(84)),
        ("-\"5\"", .int(-5)),
        ("-true", .int(-1)),
        ("-null", .int(0)),
        ("+\"5\"", .string("5")),
        ("1.5 + 1.5", .float(3)),
        ("0.1 + 0.2", .float(0.30000000000000004)),
        ("6 & 3", .int(2)),
        ("6 | 3", .int(7)),
        ("6 ^ 3", .int(5)),
        ("\"a\" | \"b\"", .string("c")),
        ("\"12\" & 5", .int(4)),
        ("5 & 3 == 1", .int(0)),
        ("1 | 2 & 3", .int(3)),
        ("{a: 1} + {a: 2, b: 3}", ["a": 1, "b": 3]),
    ]

    @Test("arithmetic and bitwise operators", arguments: arithmeticCases)
    func arithmetic(expression: String, expected: ExpressionValue) throws {
        #expect(try TestWorld.evaluate(expression) == expected)
    }

    static let comparisonsCases: [(String, Bool)] = [
        ("1 == 1.0", true),
        ("1 === 1.0", false),
        ("\"abc\" == 0", false),
        ("\"1e3\" == \"1000\"", true),
        ("null == false", true),
        ("\"10\" < \"9\"", false),
        ("\"10\" < \"9a\"", true),
        ("1 < \"a\"", true),
        ("null < -1", true),
        ("[1, 2, 3] > [5, 6]", true),
        ("[1, 2] == {1: 2, 0: 1}", true),
        ("[1, 2] === {1: 2, 0: 1}", false),
        ("[] == false", true),
        ("\"1 \" == 1", true),
        ("3 > 2 > 1", false),
        ("1 == 1 == 1", true),
        ("\"abc\" < \"abd\"", true),
        ("null == \"\"", true),
        ("null == \"0\"", false),
        ("\"0\" == false", true),
        ("\"0.0\" == false", false),
        ("conf == conf", true),
        ("conf === conf", true),
        ("conf == null", false),
        ("constant(\"INF\") == \"INF\"", true),
        ("constant(\"INF\") in [\"x\", \"INF\"]", true),
        ("-constant(\"INF\") == \"-INF\"", true),
        ("constant(\"NAN\") == \"NAN\"", false),
        ("1.5 == \"abc\"", false),
        ("1 == \"1abc\"", false),
        ("1.5 in [\"1.5\"]", true),
        ("\"abc\" in [1.5, 2]", false),
    ]

    @Test("loose and strict comparisons", arguments: comparisonsCases)
    func comparison(expression: String, expected: Bool) throws {
        #expect(try TestWorld.evaluate(expression) == .bool(expected))
    }

    static let stringsCases: [(String, String)] = [
        ("(0.1 + 0.2) ~ \"\"", "0.3"),
        ("(1 / 3) ~ \"\"", "0.33333333333333"),
        ("(2 ** 63) ~ \"\"", "9.2233720368548E+18"),
        ("1.0 ~ \"\"", "1"),
        ("-0.0 ~ \"\"", "-0"),
        ("0.00001 ~ \"\"", "1.0E-5"),
        ("0.0001 ~ \"\"", "0.0001"),
        ("1e+14 ~ \"\"", "1.0E+14"),
        ("10000000000000.0 ~ \"\"", "10000000000000"),
        ("true ~ \"\"", "1"),
        ("false ~ \"\"", ""),
        ("null ~ \"x\"", "x"),
        ("1 ~ 2", "12"),
        ("counter.next() ~ \",\" ~ counter.next()", "1,2"),
        ("\"a\\nb\"", "a\nb"),
        ("\"\\u0041\"", "u0041"),
        ("\"\\q\"", "q"),
        ("\"\\101\"", "A"),
        ("'it\\'s'", "it's"),
        ("\"$var\"", "$var"),
        ("\"a\nb\"", "a b"),
    ]

    @Test("string conversion and escapes", arguments: stringsCases)
    func stringConversion(expression: String, expected: String) throws {
        #expect(try TestWorld.evaluate(expression) == .string(expected))
    }

    static let membershipCases: [(String, ExpressionValue)] = [
        ("\"1\" in [1, 2]", true),
        ("null in [0]", true),
        ("true in [\"x\"]", true),
        ("\"1e1\" in [\"10\"]", true),
        ("0 in [\"a\"]", false),
        ("\"a\" in {a: \"b\"}", false),
        ("\"a\" not in [\"b\"]", true),
        ("not \"a\" in [\"b\"]", false),
        ("\"foo\" matches \"/^f/\"", .int(1)),
        ("\"foo\" matches \"/^F/i\"", .int(1)),
        ("\"héllo\" matches \"/^h.llo$/\"", .int(0)),
        ("\"héllo\" matches \"/^h.llo$/u\"", .int(1)),
        ("nul matches \"/^$/\"", .int(1)),
        ("s matches regex", .int(1)),
        ("1..3", [1, 2, 3]),
        ("3..1", [3, 2, 1]),
        ("\"a\"..\"c\"", ["a", "b", "c"]),
        ("1.5..3", [1.5, 2.5]),
        ("\"1\"..\"3\"", [1, 2, 3]),
        ("1 .. 3 ~ \"\"", [1, 2, 3]),
        ("(1..3)[1]", .int(2)),
    ]

    @Test("in, matches and ranges", arguments: membershipCases)
    func membership(expression: String, expected: ExpressionValue) throws {
        #expect(try TestWorld.evaluate(expression) == expected)
    }

    static let accessCases: [(String, ExpressionValue)] = [
        ("conf.host", "10.0.0.1"),
        ("conf.GETHOST()", "10.0.0.1"),
        ("conf.not", "prop-not"),
        ("conf.not in [\"prop-not\"]", true),
        ("conf.matches(\"x\")", "method-matches:x"),
        ("-conf.port", .int(-11211)),
        ("conf.getOptions()[\"servers\"][1]", "b"),
        ("items[true]", .int(20)),
        ("items[\"1\"]", .int(20)),
        ("user[\"address\"][\"city\"]", "Oslo"),
        ("bag[\"a\"]", .int(1)),
        ("bag[0]", "zero"),
        ("mailer.send(\"bob\")", "sent \"hello\" to bob via smtp"),
        ("service(\"conf\") === conf", true),
        ("constant(\"Conf::DEFAULT_PORT\")", .int(11211)),
        ("counter.next() ?: 0", .int(2)),
        ("a ?: b ?: n", .int(1)),
        ("0 ? 1", .null),
        ("1 ? 2 ? 3 : 4 : 5", .int(3)),
        ("{\"1\": \"x\", \"01\": \"y\"}", .array(ExpressionArray(entries: [(.int(1), "x"), (.string("01"), "y")]))),
        ("{(null): 1, (true): 2}", .array(ExpressionArray(entries: [(.string(""), 1), (.int(1), 2)]))),
        ("{a: 1, b: 2, a: 3}", ["a": 3, "b": 2]),
        ("{true: 1}", ["true": 1]),
        ("café + 1", .int(2)),
        ("true and(false)", false),
        ("\"0\" or 0", false),
        ("\"a\" and \"b\"", true),
        ("env(\"MEMCACHED_PORT\") + 1", .int(11212)),
    ]

    @Test("properties, methods, items, functions and literals", arguments: accessCases)
    func access(expression: String, expected: ExpressionValue) throws {
        #expect(try TestWorld.evaluate(expression) == expected)
    }

    @Test("literals keep PHP's int and float types")
    func numberLiterals() throws {
        #expect(try TestWorld.evaluate("007") == .int(7))
        #expect(try TestWorld.evaluate("10.0") == .float(10))
        #expect(try TestWorld.evaluate("1.99E+3") == .float(1990))
        #expect(try TestWorld.evaluate("9223372036854775808") == .int(Int.max))
        #expect(try TestWorld.evaluate("99999999999999999999") == .float(1e20))
        let nan = try TestWorld.evaluate("(-8) ** (1/3)")
        guard case .float(let value) = nan else {
            Issue.record("expected a float, got \(nan)")
            return
        }
        #expect(value.isNaN)
    }

    @Test("byte strings that are not UTF-8")
    func byteStrings() throws {
        #expect(try TestWorld.evaluate("\"\\xff\"") == .string(ExpressionString(bytes: [0xFF])))
        #expect(try TestWorld.evaluate("\"\\0\"") == .string(ExpressionString(bytes: [0])))
        let parsed = try ExpressionLanguage().parse(bytes: [0x22, 0xFE, 0x22], names: [])
        #expect(try parsed.evaluate() == .string(ExpressionString(bytes: [0xFE])))
    }
}
