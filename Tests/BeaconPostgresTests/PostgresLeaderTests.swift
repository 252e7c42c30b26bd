// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconLocks
import BeaconTesting
import Logging
import Testing

@testable import BeaconPostgres

/// A Patroni leader as the factory's location, the application's overrides, the retry deadline, and the watch that
/// follows the location (no server needed: the ports refuse connections).
@Suite(.timeLimit(.minutes(1)))
struct PostgresLeaderTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func member(port: Int, role: String = "master") -> String {
        #"{"conn_url":"postgres://127.0.0.1:\#(port)/postgres","role":"\#(role)","state":"running","timeline":1}"#
    }

    static func cluster(leader: String?, ports: [String: Int]) -> StaticSource {
        var values: [String: String] = ["/service/beacon/config": #"{"ttl":10}"#]
        if let leader { values["/service/beacon/leader"] = leader }
        for (name, port) in ports { values["/service/beacon/members/\(name)"] = Self.member(port: port) }
        return StaticSource(values)
    }

    @Test("the leader's conn_url gives host, port and database; credentials come from the overrides only")
    func leaderParameters() async throws {
        let source = CachingSource(Self.cluster(leader: "n2", ports: ["n1": 26432, "n2": 26433]))
        let factory = PostgresConnectionFactory(
            source: source,
            location: .patroniLeader(scope: "beacon"),
            overrides: .init(user: "app", password: "hunter22", database: "appdb"),
            logger: self.logger
        )
        let parameters = try await factory.currentParameters()
        #expect(parameters.endpoints == [Endpoint(host: "127.0.0.1", port: 26433)])
        #expect(parameters.user == "app" && parameters.password == "hunter22" && parameters.database == "appdb")
        #expect(parameters.targetSessionAttributes == .primary)
        #expect(!"\(parameters)".contains("hunter22"))
        #expect(!"\(factory.overrides)".contains("hunter22"))
        #expect("\(factory.overrides)" == "user=app password=*** database=appdb")
        var dumped = ""
        dump(factory.overrides, to: &dumped)
        #expect(!dumped.contains("hunter22"))

        // Without a database override, the one conn_url names is kept.
        let plain = PostgresConnectionFactory(
            source: source,
            location: .patroniLeader(scope: "beacon"),
            logger: self.logger
        )
        #expect(try await plain.currentParameters().database == "postgres")
    }

    @Test("no leader is an attempt that failed, retried; a malformed member value fails at once naming its key")
    func noLeader() async throws {
        let backend = FaultInjectingSource(Self.cluster(leader: nil, ports: ["n1": 26432]))
        let factory = PostgresConnectionFactory(
            source: CachingSource(backend, configuration: .init(ttl: .seconds(600))),
            location: .patroniLeader(scope: "beacon"),
            retryPolicy: PostgresRetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(1), jitter: 0),
            logger: self.logger
        )
        let error = await #expect(throws: PostgresError.self) { try await factory.makeConnection() }
        #expect(error?.code == .allAttemptsFailed)
        #expect(error?.attempts.count == 3)
        #expect((error?.attempts.first?.error as? PostgresError)?.code == .noLeader)
        // Each attempt read the cluster again (no leader is never served from the cache).
        #expect(backend.counts.list == 3)

        let broken = StaticSource(["/service/beacon/leader": "n1", "/service/beacon/members/n1": #"{"role":"x"}"#])
        let malformed = PostgresConnectionFactory(
            source: CachingSource(broken),
            location: .patroniLeader(scope: "beacon"),
            logger: self.logger
        )
        let invalid = await #expect(throws: PostgresError.self) { try await malformed.makeConnection() }
        #expect(invalid?.code == .invalidParameters)
        #expect(invalid?.key == "/service/beacon/members/n1")
    }

    @Test("with a deadline, attempts go on until it has passed, the last wait cut short at it")
    func deadline() async throws {
        let closed = try Tarpit(listening: false)
        let clock = ManualClock()
        let factory = PostgresConnectionFactory(
            source: CachingSource(StaticSource(["/db/main": "postgresql://127.0.0.1:\(closed.port)/app"])),
            location: .key("/db/main"),
            retryPolicy: PostgresRetryPolicy(
                maxAttempts: 1,
                initialBackoff: .milliseconds(400),
                maximumBackoff: .seconds(5),
                jitter: 0,
                deadline: .seconds(1)
            ),
            clock: clock,
            logger: self.logger
        )
        let task = Task { try await factory.makeConnection() }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(400))  // the first wait: 400 ms
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(600))  // the second would be 800 ms: cut at the deadline
        let error = await #expect(throws: PostgresError.self) { try await task.value }
        #expect(error?.code == .allAttemptsFailed)
        #expect(error?.attempts.count == 3)
        #expect(error?.message.contains("within 1.0 seconds") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(PostgresRetryPolicy(deadline: .seconds(1)).allowsAttempt(after: 100, elapsed: .milliseconds(999)))
        #expect(!PostgresRetryPolicy(deadline: .seconds(1)).allowsAttempt(after: 1, elapsed: .seconds(1)))
    }

    @Test("run() follows the leader key: a new leader wakes a retry waiting out its backoff, and goes there at once")
    func newLeaderWakesRetry() async throws {
        let old = try Tarpit(listening: false)
        let new = try Tarpit(listening: false)
        let discovery = Self.cluster(leader: "n1", ports: ["n1": old.port, "n2": new.port])
        let clock = ManualClock()
        let factory = PostgresConnectionFactory(
            source: CachingSource(discovery, configuration: .init(ttl: .seconds(600))),
            location: .patroniLeader(scope: "beacon"),
            retryPolicy: PostgresRetryPolicy(maxAttempts: 2, initialBackoff: .seconds(60), jitter: 0),
            clock: clock,
            logger: self.logger
        )
        await withTaskGroup { group in
            group.addTask { await factory.run() }
            defer { group.cancelAll() }
            await factory.followed.wait(after: 0)
            #expect(factory.generation == 0)

            // Members refresh their entries every loop: no change for a client.
            discovery.set("/service/beacon/members/n1", to: Self.member(port: old.port) + " ")
            let seen = factory.followed.generation
            await factory.followed.wait(after: seen)
            #expect(factory.generation == 0)

            let attempt = Task { try await factory.makeConnection() }
            await clock.waitForSleepers(1)  // attempt 1 (old leader) failed; a 60 s backoff nobody advances
            discovery.set("/service/beacon/leader", to: "n2")
            let error = await #expect(throws: PostgresError.self) { try await attempt.value }
            #expect(error?.attempts.map { $0.endpoints.first?.port } == [old.port, new.port])
            #expect(factory.generation == 1)
        }
    }

    @Test("a location that changed between a read and the start of run() counts as changed at the first snapshot")
    func changeBeforeTheWatch() async throws {
        let discovery = StaticSource(["/db/main": "postgresql://10.0.0.1:5432/app"])
        let factory = PostgresConnectionFactory(
            source: CachingSource(discovery, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            logger: self.logger
        )
        #expect(try await factory.currentParameters().endpoints.first?.host == "10.0.0.1")
        // The key changes before run() watches it: connections made from the first read are stale.
        discovery.set("/db/main", to: "postgresql://10.0.0.2:5432/app")
        await withTaskGroup { group in
            group.addTask { await factory.run() }
            defer { group.cancelAll() }
            await factory.followed.wait(after: 0)
            #expect(factory.generation == 1)
        }
        #expect(try await factory.currentParameters().endpoints.first?.host == "10.0.0.2")

        // Unchanged between the read and the watch: no change.
        let steady = PostgresConnectionFactory(
            source: CachingSource(discovery, configuration: .init(ttl: .seconds(600))),
            location: .key("/db/main"),
            logger: self.logger
        )
        _ = try await steady.currentParameters()
        await withTaskGroup { group in
            group.addTask { await steady.run() }
            defer { group.cancelAll() }
            await steady.followed.wait(after: 0)
            #expect(steady.generation == 0)
        }
    }
}
