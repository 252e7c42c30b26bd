// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging
import Testing

/// A hung server: a test-private memcached instance (port 21293) beside the shared ones is frozen with SIGSTOP, so
/// its kernel still accepts connections and nothing answers. Only the private instance is frozen.
@Suite("MemcachedPool with a frozen server", .serialized, .requiresServers, .timeLimit(.minutes(1)))
struct MemcachedFrozenServerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func shared() throws -> [Endpoint] {
        try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
    }

    static func configuration(removeFailedServers: Bool = false) -> MemcachedPool.Configuration {
        MemcachedPool.Configuration(
            connectTimeout: .milliseconds(200),
            pollTimeout: .milliseconds(200),
            failureLimit: 2,
            retryTimeout: .seconds(1),
            removeFailedServers: removeFailedServers,
            maxConnections: 2
        )
    }

    /// A pool over the shared servers and a private one, the victim, with 200 keys of a prefix of its own and which
    /// of them the victim holds.
    struct Fixture {
        let victim: MemcachedPrivateServer
        let pool: MemcachedPool
        let keys: [String]
        let victimKeys: [String]
        let otherKeys: [String]

        init(_ name: String, removeFailedServers: Bool = false) throws {
            let victim = try MemcachedPrivateServer(port: 21293)
            do {
                self.pool = try MemcachedPool(
                    servers: try MemcachedFrozenServerTests.shared() + [victim.endpoint],
                    configuration: MemcachedFrozenServerTests.configuration(removeFailedServers: removeFailedServers),
                    logger: MemcachedFrozenServerTests.logger
                )
            } catch {
                victim.stop()
                throw error
            }
            self.victim = victim
            let prefix = "beacon-tests:\(name):\(UUID().uuidString)"
            self.keys = (0..<200).map { "\(prefix):\($0)" }
            self.victimKeys = try self.keys.filter { [pool] in try pool.server(forKey: $0) == victim.endpoint }
            self.otherKeys = try self.keys.filter { [pool] in try pool.server(forKey: $0) != victim.endpoint }
        }

        /// Writes `value` under every key.
        func fill(_ value: [UInt8]) throws {
            try self.pool.withBlockingConnection { connection in
                for key in self.keys { try connection.set(key, value: value) }
            }
        }

        /// Closes the pool, thaws the victim and stops it.
        func close() {
            self.pool.close()
            self.victim.thaw()
            self.victim.stop()
        }
    }

    /// Runs `body` and returns what it threw (or `nil`) and how long it took.
    static func timed(_ body: () throws -> Void) -> (error: MemcachedError?, duration: Duration) {
        let start = ContinuousClock.now
        do {
            try body()
            return (nil, start.duration(to: .now))
        } catch {
            return (error as? MemcachedError, start.duration(to: .now))
        }
    }

    @Test("after failureLimit timeouts a frozen server's keys fail at once; the others are unaffected; it recovers")
    func frozenServer() async throws {
        let fixture = try Fixture("frozen")
        defer { fixture.close() }
        let (victim, pool) = (fixture.victim, fixture.pool)
        let (victimKeys, otherKeys) = (fixture.victimKeys, fixture.otherKeys)
        try #require(victimKeys.count >= 4 && !otherKeys.isEmpty)
        try fixture.fill([1])

        victim.freeze()
        // The first two operations wait for the poll timeout (a set then a get, each on its own connection).
        let first = Self.timed { try pool.withBlockingConnection { try $0.set(victimKeys[0], value: [2]) } }
        #expect(first.error?.code == .timeout, "\(String(describing: first.error))")
        let second = Self.timed { try pool.withBlockingConnection { _ = try $0.get(victimKeys[1]) } }
        #expect(second.error?.code == .timeout, "\(String(describing: second.error))")
        #expect(second.duration >= .milliseconds(150))

        // Then the server is skipped: its keys fail at once, naming it and the count.
        for key in victimKeys.prefix(4) {
            let outcome = Self.timed { try pool.withBlockingConnection { _ = try $0.get(key) } }
            #expect(outcome.duration < .milliseconds(50))
            let error = try #require(outcome.error)
            #expect(error.code == .unavailable)
            #expect(error.endpoint == victim.endpoint)
            #expect(error.key == key)
            #expect(error.message.contains("timed out 2 times"), "\(error)")
            #expect(error.message.contains("skipped until"), "\(error)")
        }
        // The other servers answer as usual, on both connections (neither holds a late answer).
        let others = Self.timed {
            try pool.withBlockingConnection { connection throws in
                for key in otherKeys { #expect(try connection.get(key) == [1]) }
            }
        }
        #expect(others.error == nil)
        #expect(others.duration < .milliseconds(500))

        // After retryTimeout, one operation probes the still-frozen server, times out, and the breaker opens again.
        try await Task.sleep(for: .milliseconds(1_100))
        let probe = Self.timed { try pool.withBlockingConnection { _ = try $0.get(victimKeys[2]) } }
        #expect(probe.error?.code == .timeout, "\(String(describing: probe.error))")
        let afterProbe = Self.timed { try pool.withBlockingConnection { _ = try $0.get(victimKeys[2]) } }
        #expect(afterProbe.error?.code == .unavailable)
        #expect(afterProbe.duration < .milliseconds(50))

        // Thawed: the next probe succeeds and the server is used again, with what it held.
        victim.thaw()
        try await Task.sleep(for: .milliseconds(1_100))
        var values: [[UInt8]?] = []
        try pool.withBlockingConnection { connection in
            for key in victimKeys.suffix(from: 3) { values.append(try connection.get(key)) }
        }
        #expect(values.allSatisfy { $0 == [1] })
        try pool.withBlockingConnection { connection throws in
            try connection.set(victimKeys[0], value: [3])
            #expect(try connection.get(victimKeys[0]) == [3])
        }
    }

    @Test("getMulti and getItem: a frozen server's keys are left out after failureLimit timeouts; it recovers")
    func frozenServerMultiGet() async throws {
        let fixture = try Fixture("frozen-multi")
        defer { fixture.close() }
        let (victim, pool, keys) = (fixture.victim, fixture.pool, fixture.keys)
        let (victimKeys, otherKeys) = (fixture.victimKeys, fixture.otherKeys)
        try #require(victimKeys.count >= 2 && !otherKeys.isEmpty)
        try fixture.fill([1])
        victim.freeze()

        // The first read waits for the poll timeout and returns what the others hold. libmemcached does not say
        // which server it waited for; the next reads ask each server on their own and count the timeouts there.
        var durations: [Duration] = []
        for _ in 0..<3 {
            var found: MemcachedItems?
            let outcome = Self.timed { try pool.withBlockingConnection { found = try $0.getMulti(keys) } }
            #expect(outcome.error == nil, "\(String(describing: outcome.error))")
            #expect(found?.count == otherKeys.count)
            durations.append(outcome.duration)
        }
        #expect(durations.allSatisfy { $0 >= .milliseconds(150) }, "\(durations)")
        // The other servers are not held up by a late answer the frozen one still owes.
        let other = Self.timed { try pool.withBlockingConnection { _ = try $0.get(otherKeys[0]) } }
        #expect(other.error == nil && other.duration < .milliseconds(100), "\(other)")

        // Now the frozen server is skipped: reads return at once without its keys, and its keys alone fail.
        var found: MemcachedItems?
        let skipped = Self.timed { try pool.withBlockingConnection { found = try $0.getMulti(keys) } }
        #expect(skipped.error == nil && skipped.duration < .milliseconds(100), "\(skipped)")
        #expect(found?.count == otherKeys.count)
        let item = Self.timed { try pool.withBlockingConnection { _ = try $0.getItem(victimKeys[0]) } }
        #expect(item.error?.code == .unavailable, "\(String(describing: item.error))")
        #expect(item.error?.endpoint == victim.endpoint)
        #expect(item.duration < .milliseconds(50))
        let onlyVictim = Self.timed { try pool.withBlockingConnection { _ = try $0.getMulti(victimKeys) } }
        #expect(onlyVictim.error?.code == .unavailable)

        // Thawed: after retryTimeout the next read probes it, and every key is found again.
        victim.thaw()
        try await Task.sleep(for: .milliseconds(1_100))
        try pool.withBlockingConnection { connection throws in
            #expect(try connection.getMulti(keys).count == keys.count)
            #expect(try connection.getItem(victimKeys[1])?.value == [1][...])
        }
    }

    @Test("with removeFailedServers, a frozen server's keys move to the others while it is skipped")
    func frozenServerKeysMove() async throws {
        let fixture = try Fixture("frozen-move", removeFailedServers: true)
        defer { fixture.close() }
        let (victim, pool, victimKeys) = (fixture.victim, fixture.pool, fixture.victimKeys)
        try #require(victimKeys.count >= 4)

        victim.freeze()
        for key in victimKeys.prefix(2) {
            let outcome = Self.timed { try pool.withBlockingConnection { _ = try $0.get(key) } }
            #expect(outcome.error?.code == .timeout)
        }
        let moved = Self.timed {
            try pool.withBlockingConnection { connection throws in
                for key in victimKeys {
                    try connection.set(key, value: [4])
                    #expect(try connection.get(key) == [4])
                }
                // getMulti and getItem read them where they moved, too.
                #expect(try connection.getMulti(victimKeys).count == victimKeys.count)
                #expect(try connection.getItem(victimKeys[0])?.value == [4][...])
            }
        }
        #expect(moved.error == nil, "\(String(describing: moved.error))")
        #expect(moved.duration < .milliseconds(500))
    }
}
