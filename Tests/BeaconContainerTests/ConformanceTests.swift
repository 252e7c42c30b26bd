// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import ExpressionCorpusSupport
import Foundation
import Testing

/// What the corpus's `probe` service holds: the value of its expression argument.
final class Probe: Sendable {
    let value: ExpressionValue

    init(value: ExpressionValue) {
        self.value = value
    }
}

/// Runs every `di` case of the Symfony conformance corpus (or of the file `BEACON_EXPRESSION_CORPUS` names)
/// through a container: a service `probe` whose argument is `@=expression`, as Symfony's generator did.
@Suite("Symfony conformance corpus, di profile")
struct ConformanceTests {
    static func corpusURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["BEACON_EXPRESSION_CORPUS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return try #require(Bundle.module.url(forResource: "corpus", withExtension: "json"))
    }

    @Test("every di case matches Symfony 5.4's ContainerBuilder on PHP 8.2")
    func corpus() async throws {
        let data = try Data(contentsOf: try Self.corpusURL())
        let corpus = try JSONDecoder().decode(CorpusJSON.self, from: data)
        let world = DIWorld(fixtures: corpus["fixtures"] ?? .null, text: String(decoding: data, as: UTF8.self))
        var passed = 0
        var failed = 0
        for testCase in corpus["cases"]?.array ?? [] where testCase["profile"]?.string == "di" {
            if let failure = await world.run(testCase) {
                failed += 1
                let id = testCase["id"]?.string ?? "?"
                Issue.record("\(id) `\(testCase["expression"]?.string ?? "")`: \(failure)")
            } else {
                passed += 1
            }
        }
        print("container conformance: \(passed) passed, \(failed) failed")
        #expect(failed == 0)
        #expect(passed > 0)
    }
}

/// The corpus's fixture container rebuilt as a `ContainerBuilder`: `conf` (an instance), `mailer` (built from a
/// definition), the alias `cache.config`, the parameters and the environment.
struct DIWorld {
    let conf: ConfFixture
    let counter: CounterFixture
    let objects: [String: any ExpressionObject]
    let parameters: [(name: String, value: ExpressionValue)]
    let environment: [String: String]
    let constants: [(name: String, value: ExpressionValue)]
    let decoder: TypedValueDecoder

    init(fixtures: CorpusJSON, text: String) {
        let plain = TypedValueDecoder(objects: [:])
        func properties(_ name: String) -> [String: ExpressionValue] {
            var result: [String: ExpressionValue] = [:]
            for (key, value) in fixtures["objects"]?[name]?["public_properties"]?.object ?? [:] {
                result[key] = plain.decode(value)
            }
            return result
        }
        conf = ConfFixture(properties: properties("conf"))
        counter = CounterFixture()
        objects = [
            "conf": conf, "mailer": MailerFixture(transport: properties("mailer")["transport"] ?? "smtp"),
            "point": PointFixture(), "bag": BagFixture(), "counter": counter,
        ]
        decoder = TypedValueDecoder(objects: objects)
        // Parameters keep the order of the file (Symfony's insertion order), which decides suggestion order.
        let parameterJSON = fixtures["container"]?["parameters"]?.object ?? [:]
        let section = text.range(of: "\"parameters\"").map { text[$0.upperBound...] } ?? Substring(text)
        let names = parameterJSON.keys.sorted { first, second in
            let firstPosition = section.range(of: "\"\(first)\":")?.lowerBound ?? section.endIndex
            let secondPosition = section.range(of: "\"\(second)\":")?.lowerBound ?? section.endIndex
            return firstPosition < secondPosition
        }
        parameters = names.map { ($0, plain.decode(parameterJSON[$0] ?? .null)) }
        var environment: [String: String] = [:]
        for (name, value) in fixtures["container"]?["env"]?.object ?? [:] {
            environment[name] = value.string
        }
        self.environment = environment
        var constants: [(name: String, value: ExpressionValue)] = []
        for (name, value) in fixtures["php_constants_used"]?.object ?? [:] {
            constants.append((name, plain.decode(value)))
        }
        for (name, value) in fixtures["objects"]?["conf"]?["constants"]?.object ?? [:] {
            if let number = value.number {
                constants.append(("Conf::\(name)", .int(Int(number))))
            }
        }
        self.constants = constants
    }

    /// A container as Symfony's generator set it up, with `probe` evaluating `expression`.
    func builder(expression: String) -> ContainerBuilder {
        let language = ExpressionLanguage()
        for constant in constants {
            language.defineConstant(constant.name, value: constant.value)
        }
        var builder = ContainerBuilder(expressionLanguage: language, environment: environment)
        builder.containerClassName = "Symfony\\Component\\DependencyInjection\\ContainerBuilder"
        // Symfony's ContainerBuilder is not compiled in the generator: unknown references fail at evaluation.
        builder.checksExpressionReferences = false
        let conf = self.conf
        builder.registerFactory("Mailer") { arguments in MailerFixture(transport: try arguments.value(0)) }
        builder.registerFactory("Probe") { arguments in Probe(value: try arguments.value(0)) }
        builder.register("mailer", factory: "Mailer", arguments: [.value("smtp")])
        builder.register("probe", factory: "Probe", arguments: [.expression(expression)])
        for interface in [
            "Psr\\Container\\ContainerInterface", "Symfony\\Component\\DependencyInjection\\ContainerInterface",
        ] {
            builder.register(interface) { _ in PlainObject(className: interface, properties: [:]) }
        }
        builder.alias("cache.config", to: "conf")
        builder.register("conf") { _ in conf }
        for parameter in parameters {
            builder.setParameter(parameter.name, parameter.value)
        }
        return builder
    }

    /// Runs one case; `nil` when it passed, else why it failed.
    func run(_ testCase: CorpusJSON) async -> String? {
        guard let expression = testCase["expression"]?.string, let expected = testCase["expected"] else {
            return "no expression or expected outcome"
        }
        counter.reset()
        let container: Container
        do {
            container = try builder(expression: expression).build()
        } catch {
            guard error.code == .invalidExpression, let underlying = error.underlying else {
                return "build failed: \(error)"
            }
            return compareError(underlying, phase: "parse", expected: expected)
        }
        let value: ExpressionValue
        do {
            value = try await container.get("probe", as: Probe.self).value
        } catch {
            return compareError(error, phase: "evaluate", expected: expected)
        }
        guard expected["kind"]?.string == "value", let expectedValue = expected["value"] else {
            return "expected an error, got value \(value.debugDescription)"
        }
        return matches(value, expectedValue) ? nil : "expected \(expectedValue), got \(value.debugDescription)"
    }

    private static let diClasses: [ContainerError.Code: String] = [
        .serviceNotFound: "Symfony\\Component\\DependencyInjection\\Exception\\ServiceNotFoundException",
        .parameterNotFound: "Symfony\\Component\\DependencyInjection\\Exception\\ParameterNotFoundException",
        .environmentNotFound: "Symfony\\Component\\DependencyInjection\\Exception\\EnvNotFoundException",
        .environmentProcessing: "Symfony\\Component\\DependencyInjection\\Exception\\RuntimeException",
        .circularReference: "Symfony\\Component\\DependencyInjection\\Exception\\ServiceCircularReferenceException",
    ]

    private static let phpRuntimeCodes: [String: ExpressionError.Code] = [
        "TypeError": .typeError, "Error": .error, "ArgumentCountError": .argumentCountError,
        "ValueError": .valueError, "DivisionByZeroError": .divisionByZero, "ArithmeticError": .error,
    ]

    private func compareError(_ error: any Error, phase: String, expected: CorpusJSON) -> String? {
        guard expected["kind"]?.string == "error" else { return "expected a value, got \(phase) error \(error)" }
        guard expected["phase"]?.string == phase else {
            return "expected a \(expected["phase"]?.string ?? "?") error, got \(phase) error \(error)"
        }
        let expectedMessage = expected["message"]?.string ?? ""
        let expectedClass = expected["class"]?.string ?? ""
        switch expected["origin"]?.string {
        case "expression-language":
            guard let error = error as? ExpressionError else { return "expected \(expectedClass), got \(error)" }
            if error.message != expectedMessage {
                return "expected message \(expectedMessage.debugDescription), got \(error.message.debugDescription)"
            }
            if let position = expected["position"]?.number, error.position != Int(position) {
                return "expected position \(Int(position)), got \(String(describing: error.position))"
            }
            return nil
        case "dependency-injection":
            guard let error = error as? ContainerError else { return "expected \(expectedClass), got \(error)" }
            guard Self.diClasses[error.code] == expectedClass, error.message == expectedMessage else {
                return "expected \(expectedClass): \(expectedMessage), got \(error)"
            }
            return nil
        case "php-runtime":
            guard let error = error as? ExpressionError, let code = Self.phpRuntimeCodes[expectedClass] else {
                return "expected \(expectedClass), got \(error)"
            }
            return error.code == code ? nil : "expected \(expectedClass) (\(expectedMessage)), got \(error)"
        default:
            guard let error = error as? FixtureError, error.message == expectedMessage,
                error.className == expectedClass
            else { return "expected \(expectedClass): \(expectedMessage), got \(error)" }
            return nil
        }
    }

    private func matches(_ actual: ExpressionValue, _ expected: CorpusJSON) -> Bool {
        switch (actual, expected["type"]?.string) {
        case (.object(let object), "object"):
            if let ref = expected["ref"]?.string {
                if ref == "container" {
                    return object.className == "Symfony\\Component\\DependencyInjection\\ContainerBuilder"
                }
                return objects[ref] === object || (ref == "mailer" && object is MailerFixture)
            }
            guard object.className == expected["class"]?.string else { return false }
            for (name, value) in expected["properties"]?.object ?? [:] {
                guard let property = try? object.property(named: name), matches(property, value) else { return false }
            }
            return true
        case (.array(let array), "array"):
            let entries = expected["entries"]?.array ?? []
            guard entries.count == array.count else { return false }
            for (entry, actualEntry) in zip(entries, array.entries) {
                guard let pair = entry.array, pair.count == 2, TypedValueDecoder.key(pair[0]) == actualEntry.key,
                    matches(actualEntry.value, pair[1])
                else { return false }
            }
            return true
        case (.float(let value), "float"):
            let expectedValue = TypedValueDecoder.float(expected)
            return (value.isNaN && expectedValue.isNaN) || value.bitPattern == expectedValue.bitPattern
        default:
            return actual == decoder.decode(expected)
        }
    }
}
