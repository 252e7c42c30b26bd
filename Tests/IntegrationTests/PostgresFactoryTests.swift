// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import BeaconTesting
import InMemoryLogging
import Testing

/// The factory against the SCRAM cluster B: wrong and changed passwords, malformed values, exhausted attempts.
@Suite("BeaconPostgres factory", .requiresServers, .timeLimit(.minutes(1)))
struct PostgresFactoryTests {
    static let fast = PostgresRetryPolicy(initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(20))

    @Test("a wrong password: a clear error without the password, and no blind retries")
    func wrongPassword() async throws {
        let (logger, logs) = PostgresServers.recordingLogger()
        let backend = FaultInjectingSource(
            StaticSource(["/db/main": try PostgresServers.value(cluster: "B", password: "not-the-password")])
        )
        let factory = PostgresConnectionFactory(
            source: CachingSource(backend, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            logger: logger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.sqlState == .invalidPassword)
        #expect(error?.endpoint == (try PostgresServers.endpoint(cluster: "B")))
        #expect(error?.key == "/db/main")
        #expect(error?.attempts.count == 1)
        let text = "\(error.map { String(reflecting: $0) } ?? "")"
        #expect(text.contains("password authentication failed"), "\(text)")
        #expect(!text.contains("not-the-password"))
        #expect(!logs.entries.contains { "\($0.message) \($0.metadata)".contains("not-the-password") })
        // One connect, one reread to see whether the password changed: no blind retry.
        #expect(backend.counts.get == 2)
    }

    @Test("a changed password published in discovery is picked up by the next attempt")
    func changedPassword() async throws {
        let wrong = try PostgresServers.value(cluster: "B", password: "old-password")
        let right = try PostgresServers.value(cluster: "B")
        let backend = StaticSource(["/db/main": wrong])
        // The password is rotated in discovery just after the factory's first read.
        let source = HookedSource(backend) { number in
            if number == 2 { backend.set("/db/main", to: right) }
        }
        let (logger, logs) = PostgresServers.recordingLogger()
        let factory = PostgresConnectionFactory(
            source: CachingSource(source, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            logger: logger
        )
        let connection = try await factory.makeConnection()
        defer { connection.close() }
        #expect(try await connection.query("SELECT current_user")[0].decode(String.self, column: 0) == "beacon")
        #expect(PostgresServers.failedAttempts(logs) == 1)
    }

    @Test("after an authentication failure, the next call reads discovery again")
    func passwordFixedLater() async throws {
        let backend = StaticSource(["/db/main": try PostgresServers.value(cluster: "B", password: "old-password")])
        let factory = PostgresConnectionFactory(
            source: CachingSource(backend, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            logger: PostgresServers.quietLogger
        )
        await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        backend.set("/db/main", to: try PostgresServers.value(cluster: "B"))
        let connection = try await factory.makeConnection()
        connection.close()
    }

    @Test("a malformed discovery value: an error naming the key")
    func malformedValue() async throws {
        let backend = StaticSource(["/db/main": #"{"host": "127.0.0.1", "port": 25433, "passwd": "beacon-app-pw"}"#])
        let factory = PostgresConnectionFactory(
            source: CachingSource(backend),
            location: .key("/db/main"),
            logger: PostgresServers.quietLogger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .invalidParameters)
        #expect(error?.key == "/db/main")
        #expect(error.map { "\($0)" }?.contains("unknown field \"passwd\"") == true)
        #expect(error.map { "\($0)" }?.contains("beacon-app-pw") == false)
    }

    @Test("all attempts failing: the error lists every attempt with its server and error")
    func allAttemptsFail() async throws {
        let backend = StaticSource(["/db/main": try PostgresServers.value(cluster: "B", database: "no_such_db")])
        let factory = PostgresConnectionFactory(
            source: CachingSource(backend, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            retryPolicy: Self.fast,
            logger: PostgresServers.quietLogger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .allAttemptsFailed)
        #expect(error?.attempts.count == 6)
        let text = error.map { "\($0)" } ?? ""
        let endpoint = try PostgresServers.endpoint(cluster: "B")
        for number in 1...6 {
            #expect(text.contains("attempt \(number) (\(endpoint)): "), "\(text)")
        }
        #expect(text.contains("no_such_db"))
        #expect(!text.contains("beacon-app-pw"))
    }
}
