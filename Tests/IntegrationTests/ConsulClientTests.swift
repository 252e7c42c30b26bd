// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
import Foundation
import Testing

@testable import BeaconConsul

/// ConsulClient's KV store and blocking queries against the fake Consul agent of `scripts/servers` (written from
/// Consul's documented HTTP API; no real agent runs here).
@Suite("ConsulClient KV and blocking queries", .requiresServers, .timeLimit(.minutes(2)))
struct ConsulClientTests {
    static func client(
        agents: [String]? = nil,
        token: String? = nil,
        watchWait: Duration = .seconds(5),
        deregisterCriticalServiceAfter: Duration = .seconds(60)
    ) throws -> ConsulClient {
        let agents = try agents ?? [TestServers.value("BEACON_CONSUL_ENDPOINT")]
        return try ConsulClient(
            configuration: .init(
                agents: agents,
                token: token.map(ConsulClient.Token.init),
                watchWait: watchWait,
                deregisterCriticalServiceAfter: deregisterCriticalServiceAfter
            )
        )
    }

    /// Waits until a query is blocked in a fake agent (its `GET /state` counts them).
    static func waitUntilBlocked(control variable: String) async throws {
        let http = HTTPClient()
        defer { http.close() }
        let url = try TestServers.value(variable) + "/state"
        while true {
            let state = try JSONValue.parse(try await http.execute(HTTPRequest(url: url)).body)
            if let blocked = state["blocked_queries"], try blocked.int("blocked_queries") > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends a request to a fake agent's control port.
    static func control(_ path: String, at variable: String = "BEACON_CONSUL_CONTROL") async throws {
        let http = HTTPClient()
        defer { http.close() }
        let response = try await http.execute(HTTPRequest(method: "POST", url: try TestServers.value(variable) + path))
        #expect(response.status == 200, "\(path): \(String(decoding: response.body, as: UTF8.self))")
    }

    @Test("put, get, list with recurse, binary values, compare-and-swap, delete")
    func kvRoundTrips() async throws {
        let consul = try Self.client()
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-kv")
        try await consul.put("\(prefix)db/main", "10.0.0.5:5432")
        let read = try await consul.read("\(prefix)db/main")
        let entry = try #require(read.entry)
        #expect(entry.key == "\(prefix)db/main" && entry.string == "10.0.0.5:5432")
        #expect(entry.version > 0 && read.meta.index >= entry.version && read.meta.knownLeader)
        #expect(try await consul.get("\(prefix)missing") == nil)

        let bytes = (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } + [0, 255]
        try await consul.put("\(prefix)blob", bytes: bytes)
        #expect(try await consul.get("\(prefix)blob")?.value == bytes)
        try await consul.put("\(prefix)db/replica/1", "10.0.0.6:5432")
        #expect(
            try await consul.list(prefix: prefix).map(\.key) == ["blob", "db/main", "db/replica/1"].map { prefix + $0 }
        )
        #expect(try await consul.list(prefix: "\(prefix)nothing/").isEmpty)

        #expect(
            try await consul.compareAndSwap(
                "\(prefix)db/main",
                expectedVersion: entry.version,
                newValue: Array("b".utf8)
            )
        )
        #expect(
            try await !consul.compareAndSwap(
                "\(prefix)db/main",
                expectedVersion: entry.version,
                newValue: Array("c".utf8)
            )
        )
        #expect(try await consul.get("\(prefix)db/main")?.string == "b")
        #expect(try await consul.compareAndSwap("\(prefix)new", expectedVersion: 0, newValue: Array("1".utf8)))
        #expect(try await !consul.compareAndSwap("\(prefix)new", expectedVersion: 0, newValue: Array("2".utf8)))

        try await consul.delete("\(prefix)blob")
        #expect(try await consul.get("\(prefix)blob") == nil)
        try await consul.delete(prefix: prefix)
        #expect(try await consul.list(prefix: prefix).isEmpty)
    }

    @Test("a blocking query returns on a change, and on the wait timeout with nothing new")
    func blockingReturns() async throws {
        let consul = try Self.client(watchWait: .seconds(1))
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-block")
        try await consul.put("\(prefix)a", "1")
        let first = try await consul.read(prefix: prefix)

        // Nothing changes: the agent answers when the wait is over, with the same index.
        let started = ContinuousClock.now
        let timedOut = try await consul.read(prefix: prefix, index: first.meta.index, wait: .seconds(1))
        #expect(started.duration(to: .now) >= .seconds(1))
        #expect(timedOut.meta.index == first.meta.index && timedOut.entries == first.entries)

        // A change wakes the query.
        async let changed = consul.read(prefix: prefix, index: first.meta.index, wait: .seconds(30))
        try await Task.sleep(for: .milliseconds(200))
        try await consul.put("\(prefix)b", "2")
        let answer = try await changed
        #expect(answer.meta.index > first.meta.index && answer.entries.map(\.string) == ["1", "2"])
        try await consul.delete(prefix: prefix)
    }

    @Test("1,000 sequential puts under a watched prefix are observed in order, none lost")
    func thousandPuts() async throws {
        let consul = try Self.client()
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-watch")
        let count = 1_000
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 10_000))" }
        var iterator = consul.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await iterator.next()?.isEmpty == true)
        let writer = Task {
            for index in 0..<count { try await consul.put(key(index), String(index)) }
        }
        var seen = 0
        while seen < count {
            let snapshot = try #require(try await iterator.next())
            // Whole snapshots of sequential puts: each holds exactly the first n keys, n growing.
            #expect(snapshot.count > seen)
            #expect(snapshot.map(\.key) == (0..<snapshot.count).map(key))
            seen = snapshot.count
        }
        try await writer.value
        try await consul.delete(prefix: prefix)
    }

    @Test("an index that goes backwards (a snapshot restore) is reset: the watch sees the next change at once")
    func indexBackwards() async throws {
        // On the fake agent with ACLs: lowering the index of every key would disturb the other suites' agent.
        let consul = try Self.client(
            agents: [try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")],
            token: try TestServers.value("BEACON_CONSUL_ACL_TOKEN"),
            watchWait: .seconds(30)
        )
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-backwards")
        try await consul.put("\(prefix)a", "1")
        let watch = consul.watch(prefix: prefix)
        let values = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var iterator = watch.makeAsyncIterator()
                var values: [String] = []
                while let snapshot = try await iterator.next() {
                    values = snapshot.map(\.string)
                    if values == ["2"] { break }
                }
                return values
            }
            // Once the watch has read the prefix and blocks beyond its index, the index goes far back (as after a
            // snapshot restore) and the key changes: the blocked query returns with the lower index, and the watch
            // must read again from there. Had it kept waiting beyond its old index, which the agent reaches only
            // much later, it would see the change only when its 30 s wait ends.
            try await Self.waitUntilBlocked(control: "BEACON_CONSUL_ACL_CONTROL")
            try await Self.control("/index/backwards?by=100000", at: "BEACON_CONSUL_ACL_CONTROL")
            try await consul.put("\(prefix)a", "2")
            let started = ContinuousClock.now
            let values = try await group.next() ?? []
            #expect(started.duration(to: .now) < .seconds(25), "seen only when the 30 s wait ended")
            return values
        }
        #expect(values == ["2"])
        try await consul.delete(prefix: prefix)
    }

    @Test("a wrong token is refused with an error that names the request, not the token")
    func wrongToken() async throws {
        let endpoint = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let good = try Self.client(agents: [endpoint], token: try TestServers.value("BEACON_CONSUL_ACL_TOKEN"))
        defer { good.close() }
        try await good.put("/beacon-tests/acl", "1")
        #expect(try await good.get("/beacon-tests/acl")?.string == "1")

        let wrong = try Self.client(agents: [endpoint], token: "wrong-secret-token")
        defer { wrong.close() }
        await #expect {
            try await wrong.get("/beacon-tests/acl")
        } throws: { error in
            let error = error as? ConsulError
            let text = "\(error.map { "\($0)" } ?? "")" + "\(error.map { String(reflecting: $0) } ?? "")"
            return error?.code == .permissionDenied && error?.status == 403 && text.contains("kv get")
                && text.contains("/beacon-tests/acl") && !text.contains("wrong-secret-token")
        }
        let none = try Self.client(agents: [endpoint])
        defer { none.close() }
        await #expect(throws: ConsulError.self) { try await none.get("/beacon-tests/acl") }
        try await good.delete("/beacon-tests/acl")
    }
}
