// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import ExpressionCorpusSupport
import Testing

/// Every error `build()` and the YAML loader report, with its message.
@Suite("Build-time errors")
struct BuildErrorTests {
    static func builder() -> ContainerBuilder {
        var builder = ContainerBuilder()
        builder.registerRecordingFactories(YAMLTests.factories)
        return builder
    }

    static func buildError(_ builder: ContainerBuilder) -> ContainerError? {
        #expect(throws: ContainerError.self) { try builder.build() }
    }

    static func loadError(_ file: String) throws -> ContainerError? {
        var builder = builder()
        let path = try YAMLFixtures.path(file)
        return #expect(throws: ContainerError.self) {
            try builder.loadYAML(file: path)
            _ = try builder.build()
        }
    }

    @Test("unknown service in an argument")
    func unknownService() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler", arguments: ["@conf"])
        let error = Self.buildError(builder)
        #expect(error?.code == .serviceNotFound)
        #expect(error?.message == "The service \"handler\" has a dependency on a non-existent service \"conf\".")
    }

    @Test("unknown service in a YAML argument names the file and line")
    func unknownServiceInYAML() throws {
        let error = try Self.loadError("unknown-service.yaml")
        #expect(error?.code == .serviceNotFound)
        #expect(
            error?.message
                == "The service \"handler\" (\(try YAMLFixtures.path("unknown-service.yaml")):4) has a dependency on a "
                + "non-existent service \"conf\"."
        )
        #expect(error?.line == 4)
    }

    @Test("unknown service in a literal service() call")
    func unknownServiceInExpression() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler", arguments: [.expression("service('conf').getMemcached()")])
        let error = Self.buildError(builder)
        #expect(error?.code == .serviceNotFound)
        #expect(
            error?.message
                == "The service \"handler\" has a dependency on a non-existent service \"conf\" in the expression "
                + "`service('conf').getMemcached()`."
        )
    }

    @Test("unknown parameter in a literal parameter() call")
    func unknownParameterInExpression() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler", arguments: [.expression("parameter('port') + 1")])
        let error = Self.buildError(builder)
        #expect(error?.code == .parameterNotFound)
        #expect(
            error?.message
                == "The service \"handler\" has a dependency on a non-existent parameter \"port\" in the expression "
                + "`parameter('port') + 1`."
        )
    }

    @Test("unknown parameter in a %placeholder%")
    func unknownParameter() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler", arguments: ["%host%:%port%"])
        builder.setParameter("host", "10.0.0.1")
        let error = Self.buildError(builder)
        #expect(error?.code == .parameterNotFound)
        #expect(error?.message == "The service \"handler\" has a dependency on a non-existent parameter \"port\".")
    }

    @Test("unknown parameter inside a parameter")
    func unknownParameterInParameter() {
        var builder = Self.builder()
        builder.setParameter("dsn", "%host%:11211")
        let error = Self.buildError(builder)
        #expect(error?.message == "The parameter \"dsn\" has a dependency on a non-existent parameter \"host\".")
    }

    @Test("unknown factory name")
    func unknownFactory() {
        var builder = Self.builder()
        builder.register("handler", factory: "MemcachedSessionHandler")
        let error = Self.buildError(builder)
        #expect(error?.code == .factoryNotFound)
        #expect(
            error?.message
                == "The service \"handler\" uses the factory \"MemcachedSessionHandler\", which is not registered."
        )
    }

    @Test("malformed expression: file, line, expression and position")
    func malformedExpression() throws {
        let error = try Self.loadError("bad-expression.yaml")
        let path = try YAMLFixtures.path("bad-expression.yaml")
        #expect(error?.code == .invalidExpression)
        #expect(
            error?.message
                == "Invalid expression for the service \"handler\" (\(path):7): Unclosed \"(\" around position 28 "
                + "for expression `service(\"conf\").getMemcached(`."
        )
        #expect((error?.underlying as? ExpressionError)?.position == 28)
    }

    @Test("cycle through @ references and expressions, with the path")
    func cycle() throws {
        let error = try Self.loadError("cycle.yaml")
        #expect(error?.code == .circularReference)
        #expect(error?.message == "Circular reference detected for service \"a\", path: \"a -> b -> a\".")
    }

    @Test("cycle in code definitions")
    func codeCycle() {
        var builder = Self.builder()
        builder.register("a", factory: "Handler", arguments: ["@b"])
        builder.register("b", factory: "Handler", arguments: ["@c"])
        builder.register("c", factory: "Handler", arguments: [.list(["@a"])])
        let error = Self.buildError(builder)
        #expect(error?.message == "Circular reference detected for service \"a\", path: \"a -> b -> c -> a\".")
    }

    @Test("alias to an unknown service")
    func unknownAlias() {
        var builder = Self.builder()
        builder.alias("cache", to: "memcached")
        let error = Self.buildError(builder)
        #expect(error?.code == .serviceNotFound)
        #expect(error?.message == "The service alias \"cache\" points to a non-existent service \"memcached\".")
    }

    @Test("aliases in a cycle")
    func aliasCycle() {
        var builder = Self.builder()
        builder.alias("a", to: "b")
        builder.alias("b", to: "a")
        let error = Self.buildError(builder)
        #expect(error?.code == .circularReference)
        #expect(error?.message == "Circular reference detected for service \"a\", path: \"a -> b -> a\".")
    }

    @Test("parameters in a cycle")
    func parameterCycle() {
        var builder = Self.builder()
        builder.setParameter("a", "%b%")
        builder.setParameter("b", "x%a%")
        let error = Self.buildError(builder)
        #expect(error?.code == .circularReference)
        #expect(error?.message == "Circular reference detected for parameter \"a\" (\"a\" > \"b\" > \"a\").")
    }

    @Test("unknown env processor")
    func unknownProcessor() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler", arguments: ["%env(base64:KEY)%"])
        let error = Self.buildError(builder)
        #expect(error?.code == .invalidDefinition)
        #expect(
            error?.message
                == "The service \"handler\" uses an invalid env placeholder: Unsupported env var prefix \"base64\" for "
                + "env name \"KEY\"."
        )
    }

    @Test("change signal for a service that is not refreshable, or unknown")
    func signalForSharedService() {
        var builder = Self.builder()
        builder.register("handler", factory: "Handler")
        builder.refresh("handler", on: AsyncStream<Void> { $0.finish() })
        let error = Self.buildError(builder)
        #expect(error?.code == .notRefreshable)
        #expect(
            error?.message == "A change signal is registered for the service \"handler\", which is not refreshable."
        )
        var unknown = Self.builder()
        unknown.refresh("nope", on: AsyncStream<Void> { $0.finish() })
        #expect(
            Self.buildError(unknown)?.message == "A change signal is registered for a non-existent service \"nope\"."
        )
    }

    @Test("malformed YAML names the file and the line")
    func badSyntax() throws {
        let path = try YAMLFixtures.path("bad-syntax.yaml")
        let error = try Self.loadError("bad-syntax.yaml")
        #expect(error?.code == .invalidYAML)
        #expect(error?.file == path)
        #expect(error?.line == 5)
        #expect(error?.message.hasPrefix("Invalid YAML in \"\(path)\" at line 5, column 8: ") == true)
    }

    @Test("an unsupported key names the file and the line")
    func badKey() throws {
        let path = try YAMLFixtures.path("bad-key.yaml")
        let error = try Self.loadError("bad-key.yaml")
        #expect(error?.code == .invalidDefinition)
        #expect(
            error?.message
                == "\(path):4: The key \"autowire\" is not supported for the service \"mailer\"; the allowed keys are "
                + "\"class\", \"arguments\", \"shared\", \"refreshable\", \"alias\", \"public\"."
        )
    }

    @Test("arguments must be a list")
    func argumentsNotAList() throws {
        var builder = Self.builder()
        let error = #expect(throws: ContainerError.self) {
            try builder.loadYAML("services:\n  mailer:\n    class: Mailer\n    arguments: smtp\n", file: "inline.yaml")
        }
        #expect(error?.message == "inline.yaml:4: The \"arguments\" of the service \"mailer\" must be a list.")
    }

    @Test("an import that does not exist")
    func missingImport() throws {
        let error = try Self.loadError("missing-import.yaml")
        #expect(error?.code == .fileNotFound)
        #expect(error?.message.hasPrefix("Cannot read the YAML file \"") == true)
        #expect(error?.message.hasSuffix("nowhere.yaml\".") == true)
    }
}
