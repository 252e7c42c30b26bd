// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconRegister
import BeaconTesting
import InMemoryLogging
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import ServiceRunChecks
import Synchronization
import Testing

/// The watchdog against in-memory fakes: a scripted check answers each call when the test says so, so every step is an
/// explicit event and nothing depends on how fast the machine is.
@Suite("RegistrationWatchdog", .timeLimit(.minutes(1)))
struct RegistrationWatchdogTests {
    static let instance = ServiceInstance(
        service: "web",
        id: "web-1",
        endpoint: Endpoint(host: "127.0.0.1", port: 8001)
    )

    /// Checks back to back, never timing out on their own (the scripted check waits for the test), retrying at once.
    static func configuration(threshold: Int = 3, drainDelay: Duration = .zero) -> RegistrationWatchdog.Configuration {
        var configuration = RegistrationWatchdog.Configuration()
        configuration.interval = .milliseconds(1)
        configuration.checkTimeout = .seconds(3600)
        configuration.failureThreshold = threshold
        configuration.retryDelay = .zero
        configuration.ttl = .seconds(7)
        configuration.drainDelay = drainDelay
        return configuration
    }

    /// Runs the watchdog while `body` runs, then cancels it and waits until `run()` returned.
    static func whileRunning(_ watchdog: RegistrationWatchdog, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watchdog.run() }
            try await body()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test("the defaults: every 5 s, 2 s per check, withdrawn after 3 failures, 10 s TTL, no drain delay")
    func defaults() {
        let configuration = RegistrationWatchdog.Configuration()
        #expect(configuration.interval == .seconds(5))
        #expect(configuration.checkTimeout == .seconds(2))
        #expect(configuration.failureThreshold == 3)
        #expect(configuration.ttl == .seconds(10))
        #expect(configuration.retryDelay == .seconds(1))
        #expect(configuration.maximumRetryDelay == .seconds(30))
        #expect(configuration.drainDelay == .zero)
    }

    @Test(
        "an instance: registered on the first passing check, withdrawn at the third failure in a row, back on recovery"
    )
    func instanceLifecycle() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration()
        )
        #expect(watchdog.state == .starting)
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(true)
            #expect(try await check.waitForCall(2))
            #expect(registry.events == [.registered("web/web-1")])
            #expect(registry.live["web/web-1"]?.ttl == .seconds(7))
            #expect(watchdog.state == .registered)

            // Two failures, a pass, two failures: never three in a row, so never withdrawn.
            check.answer(false, false, true, false, false)
            #expect(try await check.waitForCall(7))
            #expect(registry.events == [.registered("web/web-1")])
            #expect(watchdog.state == .registered)

            // The third failure in a row withdraws at once.
            check.answer(false)
            #expect(try await check.waitForCall(8))
            #expect(registry.events == [.registered("web/web-1"), .withdrawn("web/web-1")])
            #expect(watchdog.state == .unhealthy)

            // Still failing: nothing more to withdraw.
            check.answer(false)
            #expect(try await check.waitForCall(9))
            #expect(registry.events.count == 2)

            // Recovery: one passing check registers again.
            check.answer(true)
            #expect(try await check.waitForCall(10))
            #expect(
                registry.events == [
                    .registered("web/web-1"), .withdrawn("web/web-1"), .registered("web/web-1"),
                ]
            )
            #expect(watchdog.state == .registered)
        }
        // Cancelling run() withdrew the registration.
        #expect(registry.events.last == .withdrawn("web/web-1"))
        #expect(registry.live.isEmpty)
        #expect(watchdog.state == .stopped)
    }

    @Test("a plain key: written with its value and TTL, withdrawn after the failures, written again on recovery")
    func plainKey() async throws {
        let check = ScriptedCheck()
        let store = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .key("/test/apache-8001", value: "127.0.0.1:8001", in: store),
            configuration: Self.configuration(threshold: 2)
        )
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(true)
            #expect(try await check.waitForCall(2))
            #expect(store.live["/test/apache-8001"]?.value == "127.0.0.1:8001")
            #expect(store.live["/test/apache-8001"]?.ttl == .seconds(7))

            check.answer(false, false)
            #expect(try await check.waitForCall(4))
            #expect(store.live.isEmpty)
            #expect(watchdog.state == .unhealthy)

            check.answer(true)
            #expect(try await check.waitForCall(5))
            #expect(store.live["/test/apache-8001"]?.value == "127.0.0.1:8001")
        }
        #expect(store.live.isEmpty)
    }

    @Test("an instance unhealthy from the start is never registered, and is unhealthy once the threshold is reached")
    func unhealthyFromTheStart() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration()
        )
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(false, false)
            #expect(try await check.waitForCall(3))
            #expect(watchdog.state == .starting)
            check.answer(false)
            #expect(try await check.waitForCall(4))
            #expect(watchdog.state == .unhealthy)
        }
        #expect(registry.events.isEmpty)
        #expect(registry.attempts == 0)
    }

    @Test("a registration that fails is logged and retried on the next passing checks, without ending run()")
    func registrationRetried() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        registry.failNext(2)
        let logs = InMemoryLogHandler()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration(),
            logger: Logger(label: "test", factory: { _ in logs })
        )
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(true)
            #expect(try await check.waitForCall(2))
            #expect(registry.attempts == 1)
            #expect(watchdog.state == .registrationFailed)
            check.answer(true)
            #expect(try await check.waitForCall(3))
            #expect(registry.attempts == 2)
            check.answer(true)
            #expect(try await check.waitForCall(4))
            #expect(registry.attempts == 3)
            #expect(watchdog.state == .registered)
            #expect(registry.events == [.registered("web/web-1")])
        }
        let failures = logs.entries.filter { $0.message.description.contains("registering failed") }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.level == .info })
        #expect(failures.first?.metadata["beacon.error"]?.description == "the fake registry is unreachable")
    }

    @Test("a failed registration waits for the retry delay before the next attempt")
    func registrationBackoff() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        registry.failNext(1)
        var configuration = Self.configuration()
        configuration.retryDelay = .seconds(3600)
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: configuration
        )
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(true, true, true)
            #expect(try await check.waitForCall(4))
            #expect(registry.attempts == 1)
            #expect(watchdog.state == .registrationFailed)
            // Failing past the threshold resets the backoff: the recovered instance registers at once.
            check.answer(false, false, false, true)
            #expect(try await check.waitForCall(8))
            #expect(registry.attempts == 2)
            #expect(watchdog.state == .registered)
        }
    }

    @Test(
        "run() lasts until graceful shutdown or cancellation, and withdraws the registration then",
        arguments: ServiceRunChecks.Stop.allCases
    )
    func stops(stop: ServiceRunChecks.Stop) async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration()
        )
        try await ServiceRunChecks.expectRunsUntil(stop, watchdog) { () async throws in
            check.answer(true)
            #expect(try await check.waitForCall(2))
            #expect(registry.live.count == 1)
        }
        #expect(registry.events == [.registered("web/web-1"), .withdrawn("web/web-1")])
        #expect(watchdog.state == .stopped)
    }

    @Test("on graceful shutdown the registration is withdrawn first, then run() waits out the drain delay")
    func drainDelay() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration(drainDelay: .seconds(3600))
        )
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await watchdog.run() }
                check.answer(true)
                #expect(try await check.waitForCall(2))
                trigger.triggerGracefulShutdown()
                #expect(try await eventually { registry.live.isEmpty })
                #expect(watchdog.state == .stopping)
                // Cancellation cuts the drain delay short.
                group.cancelAll()
                try await group.waitForAll()
            }
        }
        #expect(watchdog.state == .stopped)
    }

    @Test("stateUpdates() gives the current state, then every change in order, and ends after stopped")
    func stateUpdates() async throws {
        let check = ScriptedCheck()
        let registry = FakeRegistry()
        let watchdog = RegistrationWatchdog(
            check: check.healthCheck,
            target: .instance(Self.instance, in: registry),
            configuration: Self.configuration(threshold: 1)
        )
        let updates = watchdog.stateUpdates()
        try await Self.whileRunning(watchdog) { () async throws in
            check.answer(true)
            #expect(try await check.waitForCall(2))
            check.answer(false)
            #expect(try await check.waitForCall(3))
        }
        var seen: [RegistrationWatchdog.State] = []
        for await state in updates { seen.append(state) }
        #expect(seen == [.starting, .registered, .unhealthy, .stopping, .stopped])
        // A late subscriber gets the final state and the end.
        var late: [RegistrationWatchdog.State] = []
        for await state in watchdog.stateUpdates() { late.append(state) }
        #expect(late == [.stopped])
    }

    @Test("a check that takes longer than the timeout fails as timed out")
    func checkTimeout() async throws {
        let registry = FakeRegistry()
        let logs = InMemoryLogHandler()
        var configuration = Self.configuration(threshold: 1)
        configuration.checkTimeout = .milliseconds(10)
        let watchdog = RegistrationWatchdog(
            check: .custom("hangs") { try await Task.sleep(for: .seconds(3600)) },
            target: .instance(Self.instance, in: registry),
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in logs })
        )
        try await Self.whileRunning(watchdog) { () async throws in
            #expect(try await eventually { watchdog.state == .unhealthy })
        }
        let unhealthy = logs.entries.first { $0.message.description.contains("unhealthy") }
        #expect(unhealthy?.level == .info)
        #expect(unhealthy?.metadata["beacon.error"]?.description.hasPrefix("timedOut") == true)
        #expect(registry.attempts == 0)
    }
}
