// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import InMemoryLogging
import Logging
import Testing

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test("a cycle through a dynamic service() name is found at get, with the path")
    func dynamicExpressionCycle() async throws {
        var builder = ContainerBuilder()
        builder.registerRecordingFactories(["Handler"])
        builder.setParameter("next", "b")
        builder.register("a", factory: "Handler", arguments: [.expression("service(parameter('next'))")])
        builder.register("b", factory: "Handler", arguments: ["@a"])
        let container = try builder.build()
        let error = await #expect(throws: ContainerError.self) { try await container.get("a", as: Recorded.self) }
        #expect(error?.code == .circularReference)
        #expect(error?.message == "Circular reference detected for service \"a\", path: \"a -> b -> a\".")
    }

    @Test("the container logs constructions and invalidations at debug level, with the service id")
    func logging() async throws {
        var handler = InMemoryLogHandler()
        handler.logLevel = .debug
        let logs = handler
        var builder = ContainerBuilder(logger: Logger(label: "test", factory: { _ in logs }))
        builder.register("config", as: Config.self, scope: .refreshable) { _ in Config(servers: "a") }
        let container = try builder.build()
        _ = try await container.get("config", as: Config.self)
        try container.invalidate("config")
        let entries = logs.entries
        #expect(entries.map(\.message.description) == ["service built", "service invalidated"])
        #expect(entries.allSatisfy { $0.level == .debug && $0.metadata["container.service"] == "config" })
    }

    @Test("optional references: @?id is the service when it exists, null when it does not")
    func optionalReferences() async throws {
        var builder = ContainerBuilder()
        builder.registerRecordingFactories(["Handler", "Logger"])
        builder.register("logger", factory: "Logger")
        builder.register("handler", factory: "Handler", arguments: ["@?logger", "@?mailer"])
        let container = try builder.build()
        let handler = try await container.get("handler", as: Recorded.self)
        let logger = try await container.get("logger", as: Recorded.self)
        #expect(handler.arguments == [.object(logger), nil])
    }

    @Test("expression errors at get pass through unchanged, with Symfony's messages")
    func runtimeErrors() async throws {
        var builder = ContainerBuilder(environment: [:])
        builder.checksExpressionReferences = false
        builder.registerRecordingFactories(["Handler"])
        builder.register("service", factory: "Handler", arguments: [.expression("service('nope')")])
        builder.register("env", factory: "Handler", arguments: [.expression("env('int:PORT')")])
        builder.register("division", factory: "Handler", arguments: [.expression("1 / 0")])
        let container = try builder.build()
        let service = await #expect(throws: ContainerError.self) {
            try await container.get("service", as: Recorded.self)
        }
        #expect(service?.message == "You have requested a non-existent service \"nope\".")
        let env = await #expect(throws: ContainerError.self) { try await container.get("env", as: Recorded.self) }
        #expect(env?.message == "Environment variable not found: \"PORT\".")
        let division = await #expect(throws: ExpressionError.self) {
            try await container.get("division", as: Recorded.self)
        }
        #expect(division?.message == "Division by zero.")
    }
}
