// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import ExpressionCorpusSupport
import Foundation

/// The fixtures of a corpus file, rebuilt: objects, container, and an `ExpressionLanguage` for the `el` profile.
struct CorpusWorld {
    let objects: [String: any ExpressionObject]
    let counter: CounterFixture
    let container: ContainerFixture
    let language: ExpressionLanguage
    let decoder: TypedValueDecoder

    init(fixtures: CorpusJSON) {
        let plain = TypedValueDecoder(objects: [:])
        func properties(_ name: String) -> [String: ExpressionValue] {
            var result: [String: ExpressionValue] = [:]
            for (key, value) in fixtures["objects"]?[name]?["public_properties"]?.object ?? [:] {
                result[key] = plain.decode(value)
            }
            return result
        }
        let conf = ConfFixture(properties: properties("conf"))
        let mailerTransport = properties("mailer")["transport"] ?? "smtp"
        let counter = CounterFixture()
        let objects: [String: any ExpressionObject] = [
            "conf": conf,
            "mailer": MailerFixture(transport: mailerTransport),
            "point": PointFixture(),
            "bag": BagFixture(),
            "counter": counter,
        ]
        let decoder = TypedValueDecoder(objects: objects)

        let containerJSON = fixtures["container"]
        var parameters: [(name: String, value: ExpressionValue)] = []
        if let parameterJSON = containerJSON?["parameters"]?.object {
            for name in parameterJSON.keys.sorted() {
                parameters.append((name, decoder.decode(parameterJSON[name] ?? .null)))
            }
        }
        var environment: [String: String] = [:]
        for (name, value) in containerJSON?["env"]?.object ?? [:] {
            environment[name] = value.string
        }
        let services: [String: ExpressionValue] = [
            "conf": .object(conf),
            "cache.config": .object(conf),
            "mailer": .object(MailerFixture(transport: mailerTransport)),
        ]
        let container = ContainerFixture(
            services: services,
            serviceIDs: [
                "service_container", "mailer", "Psr\\Container\\ContainerInterface",
                "Symfony\\Component\\DependencyInjection\\ContainerInterface", "cache.config", "conf",
            ],
            parameters: parameters,
            environment: environment
        )

        let language = ExpressionLanguage()
        language.register("service") { arguments in
            try container.service(try ExpressionLanguage.string(arguments.first ?? .null).description)
        }
        language.register("parameter") { arguments in
            try container.parameter(try ExpressionLanguage.string(arguments.first ?? .null).description)
        }
        language.register("env") { arguments in
            try container.env(try ExpressionLanguage.string(arguments.first ?? .null).description)
        }
        for (name, value) in fixtures["php_constants_used"]?.object ?? [:] {
            language.defineConstant(name, value: decoder.decode(value))
        }
        for (name, value) in fixtures["objects"]?["conf"]?["constants"]?.object ?? [:] {
            if let number = value.number {
                language.defineConstant("Conf::\(name)", value: .int(Int(number)))
            }
        }

        self.objects = objects
        self.counter = counter
        self.container = container
        self.language = language
        self.decoder = decoder
    }
}

/// Runs one corpus case and says why it failed, or `nil` when it passed.
struct CorpusCaseRunner {
    let world: CorpusWorld

    private static let phpRuntimeCodes: [String: ExpressionError.Code] = [
        "TypeError": .typeError,
        "Error": .error,
        "ArgumentCountError": .argumentCountError,
        "ValueError": .valueError,
        "DivisionByZeroError": .divisionByZero,
        "ArithmeticError": .error,
    ]

    func run(_ testCase: CorpusJSON) -> String? {
        guard let expression = expressionText(testCase) else { return "no expression" }
        var values: [String: ExpressionValue] = [:]
        for (name, value) in testCase["variables"]?.object ?? [:] {
            values[name] = world.decoder.decode(value)
        }
        world.counter.reset()
        guard let expected = testCase["expected"] else { return "no expected outcome" }

        let parsed: ParsedExpression
        do {
            parsed = try world.language.parse(bytes: expression, names: Array(values.keys))
        } catch {
            return compareError(error, phase: "parse", expected: expected)
        }
        let result: ExpressionValue
        do {
            result = try parsed.evaluate(values: values)
        } catch {
            return compareError(error, phase: "evaluate", expected: expected)
        }
        guard expected["kind"]?.string == "value", let expectedValue = expected["value"] else {
            return "expected \(describe(expected)), got value \(result.debugDescription)"
        }
        if matches(result, expectedValue) {
            return nil
        }
        return "expected \(world.decoder.decode(expectedValue).debugDescription), got \(result.debugDescription)"
    }

    private func expressionText(_ testCase: CorpusJSON) -> [UInt8]? {
        if let hex = testCase["expression_hex"]?.string {
            return TypedValueDecoder.bytes(hex: hex)
        }
        return testCase["expression"]?.string.map { Array($0.utf8) }
    }

    private func describe(_ expected: CorpusJSON) -> String {
        "\(expected["kind"]?.string ?? "?") \(expected["class"]?.string ?? "") \(expected["message"]?.string ?? "")"
    }

    private func compareError(_ error: any Error, phase: String, expected: CorpusJSON) -> String? {
        guard expected["kind"]?.string == "error" else {
            return "expected a value, got \(phase) error \(error)"
        }
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
            let shortClass = expectedClass.split(separator: "\\").last.map(String.init) ?? expectedClass
            let actualShort = error.code.phpClassName.split(separator: "\\").last.map(String.init) ?? ""
            return shortClass == actualShort ? nil : "expected \(expectedClass), got \(error.code)"
        case "php-runtime":
            guard let error = error as? ExpressionError else { return "expected \(expectedClass), got \(error)" }
            guard let code = Self.phpRuntimeCodes[expectedClass] else { return "unknown PHP class \(expectedClass)" }
            return error.code == code ? nil : "expected \(expectedClass) (\(expectedMessage)), got \(error)"
        default:
            guard let error = error as? FixtureError else { return "expected \(expectedClass), got \(error)" }
            if error.message != expectedMessage || error.className != expectedClass {
                return "expected \(expectedClass): \(expectedMessage), got \(error.className): \(error.message)"
            }
            return nil
        }
    }

    /// Type and value: floats by bit pattern (NAN equal to NAN), arrays by ordered typed keys, objects by
    /// fixture identity or by class and properties.
    private func matches(_ actual: ExpressionValue, _ expected: CorpusJSON) -> Bool {
        switch (actual, expected["type"]?.string) {
        case (.object(let object), "object"):
            if let ref = expected["ref"]?.string {
                if ref == "container" { return object === world.container }
                return world.objects[ref] === object
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
                guard let pair = entry.array, pair.count == 2,
                    TypedValueDecoder.key(pair[0]) == actualEntry.key,
                    matches(actualEntry.value, pair[1])
                else { return false }
            }
            return true
        case (.float(let value), "float"):
            let expectedValue = TypedValueDecoder.float(expected)
            return (value.isNaN && expectedValue.isNaN) || value.bitPattern == expectedValue.bitPattern
        default:
            return actual == world.decoder.decode(expected)
        }
    }
}
