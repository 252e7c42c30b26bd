// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import BeaconLocks
import Testing

/// The `ExpressionLanguage` API: functions, constants, the parse cache, diagnostics and sharing.
@Suite("ExpressionLanguage")
struct LanguageTests {
    @Test("registered functions receive evaluated arguments; re-registering keeps the order")
    func functions() throws {
        let language = ExpressionLanguage()
        language.register("double") { arguments in
            try ExpressionLanguage.add(arguments.first ?? .null, arguments.first ?? .null)
        }
        language.register("first") { arguments in arguments.first ?? .null }
        #expect(try language.evaluate("double(x) + 1", values: ["x": 20]) == 41)
        #expect(try language.evaluate("double(\"1.5\")") == 3.0)
        language.register("double") { _ in "replaced" }
        #expect(language.functionNames == ["constant", "double", "first"])
        #expect(try language.evaluate("double(1)") == "replaced")
        let error = try #require(throws: ExpressionError.self) { try language.parse("frist(1)", names: []) }
        #expect(error.message.hasSuffix("Did you mean \"first\"?"))
    }

    @Test("constant() reads PHP constants and defined ones")
    func constants() throws {
        let language = ExpressionLanguage()
        #expect(try language.evaluate("constant(\"PHP_INT_MAX\")") == .int(Int.max))
        #expect(try language.evaluate("constant(\"M_PI\")") == .float(Double.pi))
        language.defineConstant("App::MODE", value: "prod")
        #expect(try language.evaluate("constant(\"App::MODE\")") == "prod")
        #expect(throws: ExpressionError(.error, "Undefined constant \"NOPE\"")) {
            try language.evaluate("constant(\"NOPE\")")
        }
        #expect(throws: ExpressionError(.error, "Class \"Nope\" not found")) {
            try language.evaluate("constant(\"Nope::X\")")
        }
    }

    @Test("the parse cache is keyed by text and names")
    func cache() throws {
        let language = ExpressionLanguage()
        #expect(language.cachedExpressionCount == 0)
        _ = try language.parse("a + b", names: ["a", "b"])
        _ = try language.parse("a + b", names: ["b", "a"])
        #expect(language.cachedExpressionCount == 1)
        _ = try language.parse("a + b", names: ["a", "b", "c"])
        #expect(language.cachedExpressionCount == 2)
        _ = try? language.parse("a +", names: ["a"])
        #expect(language.cachedExpressionCount == 2)
        language.register("f") { _ in .null }
        #expect(language.cachedExpressionCount == 0)
    }

    @Test(
        "PHP warnings reach the diagnostics callback and evaluation continues",
        arguments: [
            ("items[3]", ExpressionValue.null, "Undefined array key 3"),
            ("user[\"nope\"]", .null, "Undefined array key \"nope\""),
            ("items[nul]", .null, "Undefined array key \"\""),
            ("conf.missing", .null, "Undefined property: Conf::$missing"),
            ("conf.HOST", .null, "Undefined property: Conf::$HOST"),
            ("items ~ \"\"", "Array", "Array to string conversion"),
            ("\"5 apples\" + 1", 6, "A non-numeric value encountered"),
            ("7.5 % 2", 1, "Implicit conversion from float 7.5 to int loses precision"),
            ("items[1.7]", 20, "Implicit conversion from float 1.7 to int loses precision"),
        ]
    )
    func diagnostics(expression: String, value: ExpressionValue, message: String) throws {
        let (result, diagnostics) = try TestWorld.evaluateCollecting(expression)
        #expect(result == value)
        #expect(diagnostics.map(\.message) == [message])
    }

    @Test("a missing variable reads as null with a warning")
    func missingVariable() throws {
        let parsed = try ExpressionLanguage().parse("a ~ \"!\"", names: ["a"])
        let messages = Lock<[String]>([])
        let value = try parsed.evaluate(values: [:]) { diagnostic in messages.withLock { $0.append(diagnostic.message) }
        }
        #expect(value == "!")
        #expect(messages.withLock { $0 } == ["Undefined array key \"a\""])
    }

    @Test("one parsed expression is shared by many tasks")
    func concurrentEvaluation() async throws {
        let parsed = try TestWorld.world.language.parse(
            "service(\"conf\").getMemcached() ~ \"/\" ~ (x * 2) ~ \"/\" ~ (x in [1, 2, 3] ? \"in\" : \"out\")",
            names: ["x"]
        )
        let results = try await withThrowingTaskGroup(of: (Int, ExpressionValue).self) { group in
            for x in 0..<64 {
                group.addTask { (x, try parsed.evaluate(values: ["x": .int(x)])) }
            }
            var results: [Int: ExpressionValue] = [:]
            for try await (x, value) in group {
                results[x] = value
            }
            return results
        }
        for x in 0..<64 {
            let membership = (1...3).contains(x) ? "in" : "out"
            #expect(results[x] == .string("memcached:10.0.0.1:11211/\(x * 2)/\(membership)"))
        }
    }

    @Test("one language parses and evaluates from many tasks")
    func concurrentLanguage() async throws {
        let language = ExpressionLanguage()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                group.addTask {
                    let value = try language.evaluate("a * \(index % 4) + 1", values: ["a": 10])
                    #expect(value == .int(10 * (index % 4) + 1))
                }
            }
            try await group.waitForAll()
        }
        #expect(language.cachedExpressionCount == 4)
    }

    @Test("values convert and compare as PHP")
    func valueAPI() {
        #expect(ExpressionValue.string("1e3").looselyEquals(1000))
        #expect(!ExpressionValue.int(1).isIdentical(to: 1.0))
        #expect(!ExpressionValue.string("0").isTruthy)
        #expect(ExpressionValue.string(" ").isTruthy)
        #expect(ExpressionValue.float(0.1 + 0.2).description == "0.3")
        #expect(
            ExpressionValue.map(["1": "a", "b": "c"])
                == .array(ExpressionArray(entries: [(.int(1), "a"), (.string("b"), "c")]))
        )
        #expect(ExpressionArray(list: [1, 2]).isList)
        #expect(!ExpressionArray(entries: [(.int(1), 1)]).isList)
    }
}

extension LanguageTests {
    @Test("functions can read the evaluation's variables")
    func functionsWithVariables() throws {
        let language = ExpressionLanguage()
        language.register(
            "param",
            usingVariables: { variables, arguments in
                guard case .array(let parameters)? = variables["parameters"], let name = arguments.first else {
                    return .null
                }
                return parameters[ExpressionArrayKey(normalizing: try ExpressionLanguage.string(name))] ?? .null
            }
        )
        let value = try language.evaluate("param('port') + 1", values: ["parameters": ["port": 11211]])
        #expect(value == 11212)
    }
}
