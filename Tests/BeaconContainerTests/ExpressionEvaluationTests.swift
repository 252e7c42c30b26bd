// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

@testable import BeaconContainer

/// Expressions are evaluated with the `container` variable, which `service()`, `parameter()` and `env()` read, as
/// do functions the application registered or replaced.
@Suite("Expression evaluation")
struct ExpressionEvaluationTests {
    static func builder() -> ContainerBuilder {
        var builder = ContainerBuilder(environment: ["POOL_SIZE": "4"])
        builder.setParameter("suffix", "-a")
        builder.register("config", as: Config.self) { _ in Config(servers: "10.0.0.1:11211") }
        builder.registerFactory("Value") { arguments in Pool(servers: try arguments.string(0)) }
        return builder
    }

    @Test("the references scan finds literal service() and parameter() calls, not strings or methods")
    func scan() throws {
        let language = ExpressionLanguage()
        ContainerFunctions.register(on: language)
        let names = ["container"]
        let plain = ExpressionReferences.scan(
            try language.parse("service('a').get(parameter('b')) ~ env('C')", names: names).description
        )
        #expect(plain.services == ["a"])
        #expect(plain.parameters == ["b"])
        let variable = ExpressionReferences.scan(try language.parse("container.get('a')", names: names).description)
        #expect(variable.services.isEmpty)
        let quoted = ExpressionReferences.scan(
            try language.parse("'service(\\'x\\')' ~ service('container')", names: names).description
        )
        #expect(quoted.services == ["container"])
    }

    @Test("service(), parameter() and env(), and the container variable's methods")
    func bothPaths() async throws {
        var builder = Self.builder()
        builder.register(
            "plain",
            factory: "Value",
            arguments: [.expression("service('config').getMemcached() ~ parameter('suffix') ~ env('POOL_SIZE')")]
        )
        builder.register(
            "variable",
            factory: "Value",
            arguments: [.expression("container.get('config').getMemcached() ~ parameter('suffix')")]
        )
        builder.register(
            "self",
            factory: "Value",
            arguments: [.expression("service('service_container') === service('service_container') ? 'same' : 'other'")]
        )
        let container = try builder.build()
        #expect(try await container.get("plain", as: Pool.self).servers == "10.0.0.1:11211-a4")
        #expect(try await container.get("variable", as: Pool.self).servers == "10.0.0.1:11211-a")
        #expect(try await container.get("self", as: Pool.self).servers == "same")
    }

    @Test("a service named dynamically is resolved and the expression evaluated again")
    func dynamicService() async throws {
        var builder = Self.builder()
        builder.setParameter("which", "config")
        builder.register("dynamic", factory: "Value", arguments: [.expression("service(parameter('which')).servers")])
        let container = try builder.build()
        #expect(try await container.get("dynamic", as: Pool.self).servers == "10.0.0.1:11211")
    }

    @Test("an expression calling another function gets the container variable")
    func otherFunction() async throws {
        var builder = Self.builder()
        builder.expressionLanguage.register(
            "upper",
            usingVariables: { variables, arguments in
                guard case .object(let object)? = variables["container"] else { return .string("no container") }
                return .string("\(object.className):\(try ExpressionLanguage.string(arguments.first ?? .null))")
            }
        )
        builder.register("other", factory: "Value", arguments: [.expression("upper(service('config').servers)")])
        let container = try builder.build()
        #expect(try await container.get("other", as: Pool.self).servers == "Container:10.0.0.1:11211")
    }

    @Test("service(), parameter() and env() replaced by the application get the container variable")
    func replacedFunctions() async throws {
        var builder = Self.builder()
        for name in ["service", "parameter", "env"] {
            builder.expressionLanguage.register(
                name,
                usingVariables: { variables, _ in
                    guard case .object(let object)? = variables["container"] else { return .string("no container") }
                    return .string("\(name) of \(object.className)")
                }
            )
        }
        builder.register("replaced", factory: "Value", arguments: [.expression("service('x')")])
        builder.checksExpressionReferences = false
        let container = try builder.build()
        #expect(try await container.get("replaced", as: Pool.self).servers == "service of Container")
    }
}
