// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import BeaconTesting
import Logging
import Testing

/// The factory's retry logic against ports that refuse connections (no server needed).
@Suite(.timeLimit(.minutes(1)))
struct PostgresConnectionFactoryTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let fast = PostgresRetryPolicy(initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(5), jitter: 0)

    @Test("every attempt failing: the error lists all six, and each attempt rediscovered")
    func allAttemptsFail() async throws {
        let closed = try Tarpit(listening: false)
        let backend = FaultInjectingSource(
            StaticSource(["/db/main": "postgresql://app:hunter22@127.0.0.1:\(closed.port)/app"])
        )
        let source = CachingSource(backend, configuration: .init(ttl: .seconds(600)))
        let factory = PostgresConnectionFactory(
            source: source,
            location: .key("/db/main"),
            retryPolicy: Self.fast,
            logger: self.logger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .allAttemptsFailed)
        #expect(error?.attempts.count == 6)
        #expect(error?.attempts.map(\.number) == [1, 2, 3, 4, 5, 6])
        #expect(error?.attempts.allSatisfy { $0.endpoints == [Endpoint(host: "127.0.0.1", port: closed.port)] } == true)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("attempt 6 (127.0.0.1:\(closed.port))"), "\(text)")
        #expect(!text.contains("hunter22"))
        // Each failure invalidated the cached key and read discovery again (to see whether the value changed), and
        // each attempt after a wait read it once more.
        #expect(backend.counts.get == 12)
    }

    @Test("a malformed value fails at once with an error naming the key, and is invalidated")
    func malformed() async throws {
        let backend = FaultInjectingSource(StaticSource(["/db/main": #"{"host": "127.0.0.1", "port": "x"}"#]))
        let source = CachingSource(backend, configuration: .init(ttl: .seconds(600)))
        let factory = PostgresConnectionFactory(source: source, location: .key("/db/main"), logger: self.logger)
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .invalidParameters)
        #expect(error?.key == "/db/main")
        _ = try? await factory.makeConnection()
        #expect(backend.counts.get == 2)
    }

    @Test("a discovery outage is an attempt too, and the prefix form reads separate keys")
    func discoveryOutage() async throws {
        let closed = try Tarpit(listening: false)
        let backend = FaultInjectingSource(
            StaticSource(["/db/main/host": "127.0.0.1", "/db/main/port": "\(closed.port)"])
        )
        backend.failNext(2)
        let source = CachingSource(backend, configuration: .init(ttl: .seconds(600), maxStale: .zero))
        let factory = PostgresConnectionFactory(
            source: source,
            location: .prefix("/db/main/"),
            retryPolicy: PostgresRetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(1), jitter: 0),
            logger: self.logger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.attempts.count == 3)
        #expect(error?.attempts[0].endpoints == [])
        #expect(error?.attempts[2].endpoints == [Endpoint(host: "127.0.0.1", port: closed.port)])
        #expect(backend.counts.list == 4)
    }

    @Test("a value changed in discovery is tried at once, without waiting for the backoff")
    func movedValueTriedAtOnce() async throws {
        let first = try Tarpit(listening: false)
        let second = try Tarpit(listening: false)
        let backend = StaticSource(["/db/main": "postgresql://127.0.0.1:\(first.port)/app"])
        let source = CachingSource(backend, configuration: .init(ttl: .seconds(600)))
        let clock = ManualClock()
        let factory = PostgresConnectionFactory(
            source: source,
            location: .key("/db/main"),
            retryPolicy: PostgresRetryPolicy(maxAttempts: 2),
            clock: clock,
            logger: self.logger
        )
        _ = try await source.get("/db/main")  // cached: the stale location
        backend.set("/db/main", to: "postgresql://127.0.0.1:\(second.port)/app")
        // Both attempts fail (nothing listens), but the second one went to the new port without sleeping on the
        // manual clock, which nobody advances.
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.attempts.map(\.endpoints.first?.port) == [first.port, second.port])
        #expect(clock.sleeperCount == 0)
    }

    @Test("cancellation stops retrying at once")
    func cancellation() async throws {
        let closed = try Tarpit(listening: false)
        let backend = FaultInjectingSource(StaticSource(["/db/main": "postgresql://127.0.0.1:\(closed.port)/app"]))
        let source = CachingSource(backend, configuration: .init(ttl: .seconds(600)))
        let clock = ManualClock()
        let factory = PostgresConnectionFactory(
            source: source,
            location: .key("/db/main"),
            clock: clock,
            logger: self.logger
        )
        let task = Task { try await factory.makeConnection() }
        await clock.waitForSleepers(1)  // the first attempt failed; the factory waits before the second
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The first read, and the reread after the failure; nothing after the cancellation.
        #expect(backend.counts.get == 2)
    }
}
