// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconTesting
import InMemoryLogging
import Logging
import LoopbackServer
import Testing

@testable import BeaconRegister

/// The HTTP and TCP checks against a server of the test's own on a loopback port.
@Suite("HealthCheck", .timeLimit(.minutes(1)))
struct HealthCheckTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs a check once, with a timeout generous enough that only a hung check reaches it.
    static func run(_ check: HealthCheck) async -> Result<Void, any Error> {
        let checker = HealthChecker(check: check, timeout: .seconds(20), logger: Self.logger)
        defer { checker.close() }
        return await checker.run()
    }

    static func code(_ result: Result<Void, any Error>) -> HealthCheckError.Code? {
        guard case .failure(let error) = result else { return nil }
        return (error as? HealthCheckError)?.code
    }

    @Test("descriptions name what is checked, without user information, query or fragment")
    func descriptions() {
        #expect(
            HealthCheck.http("http://user:secret@127.0.0.1:8001/health?token=abc#x").description
                == "GET http://127.0.0.1:8001/health"
        )
        #expect(HealthCheck.http("https://10.0.0.5:8443").description == "GET https://10.0.0.5:8443")
        #expect(HealthCheck.tcp(Endpoint(host: "127.0.0.1", port: 8001)).description == "TCP 127.0.0.1:8001")
        #expect(HealthCheck.custom("database") {}.description == "database")
    }

    @Test("TCP: a listening port passes; a port that refuses fails with connectFailed")
    func tcp() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let refusing = try RefusingPort()
        let passed = await Self.run(.tcp(Endpoint(host: "127.0.0.1", port: server.port)))
        #expect((try? passed.get()) != nil)
        let failed = await Self.run(.tcp(Endpoint(host: "127.0.0.1", port: refusing.port)))
        #expect(Self.code(failed) == .connectFailed)
        if case .failure(let error as HealthCheckError) = failed {
            #expect(error.target == "127.0.0.1:\(refusing.port)")
            #expect(error.thrownAt.hasPrefix("BeaconRegister/"))
        }
        let byName = await Self.run(.tcp(Endpoint(host: "localhost", port: server.port)))
        #expect((try? byName.get()) != nil)
    }

    @Test("HTTP: a 2xx passes; another status fails with unexpectedStatus; a refused connection with connectFailed")
    func http() async throws {
        let server = try LoopbackHTTPServer(status: 204)
        defer { server.stop() }
        let refusing = try RefusingPort()
        #expect((try? await Self.run(.http(server.url())).get()) != nil)

        server.setStatus(503)
        let failed = await Self.run(.http(server.url()))
        #expect(Self.code(failed) == .unexpectedStatus)
        if case .failure(let error as HealthCheckError) = failed {
            #expect(error.status == 503)
            #expect(error.target == server.url())
            #expect(error.description == "unexpectedStatus: GET \(server.url()) answered 503")
        }

        let refused = await Self.run(.http("http://127.0.0.1:\(refusing.port)/health"))
        #expect(Self.code(refused) == .connectFailed)
    }

    @Test("a watchdog with an HTTP check follows the server: registered on 200, withdrawn on 503s, back on 200")
    func watchdogFollowsServer() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let registry = FakeRegistry()
        var configuration = RegistrationWatchdogTests.configuration(threshold: 2)
        configuration.interval = .milliseconds(10)
        configuration.checkTimeout = .seconds(20)
        let watchdog = RegistrationWatchdog(
            check: .http(server.url()),
            target: .key("/test/apache-8001", value: "127.0.0.1:\(server.port)", in: registry),
            configuration: configuration
        )
        try await RegistrationWatchdogTests.whileRunning(watchdog) { () async throws in
            #expect(try await eventually { registry.live["/test/apache-8001"] != nil })
            server.setStatus(503)
            #expect(try await eventually { registry.live.isEmpty })
            #expect(try await eventually { watchdog.state == .unhealthy })
            server.setStatus(200)
            #expect(try await eventually { registry.live["/test/apache-8001"] != nil })
        }
        #expect(
            registry.events == [
                .registered("/test/apache-8001"), .withdrawn("/test/apache-8001"),
                .registered("/test/apache-8001"), .withdrawn("/test/apache-8001"),
            ]
        )
    }

    @Test("the watchdog's logs, debug included, hold neither the URL's user information nor its query")
    func noSecretsInLogs() async throws {
        let refusing = try RefusingPort()
        var handler = InMemoryLogHandler()
        handler.logLevel = .debug
        let logs = handler
        var configuration = RegistrationWatchdogTests.configuration(threshold: 1)
        configuration.checkTimeout = .seconds(20)
        let watchdog = RegistrationWatchdog(
            check: .http("http://user:s3cret@127.0.0.1:\(refusing.port)/health?token=t0ken"),
            target: .key("/test/apache-8001", value: "127.0.0.1:8001", in: FakeRegistry()),
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in logs })
        )
        try await RegistrationWatchdogTests.whileRunning(watchdog) { () async throws in
            #expect(try await eventually { watchdog.state == .unhealthy })
        }
        let text = logs.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(text.contains("GET http://127.0.0.1:\(refusing.port)/health"))
        #expect(!text.contains("s3cret"))
        #expect(!text.contains("t0ken"))
    }
}
