// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
import Foundation
import Testing

@testable import BeaconConsul

/// ConsulClient's registrations (agent services with TTL checks) against the fake Consul agent of `scripts/servers`.
/// Serialized: two cases restart the fake agent of `consul-faults` or stop one of its agents, which only this suite uses.
@Suite("ConsulClient registration", .requiresServers, .serialized, .timeLimit(.minutes(3)))
struct ConsulRegistryTests {
    static func instance(_ service: String, _ id: String = "web-1", port: Int = 8080) -> ServiceInstance {
        ServiceInstance(
            service: service,
            id: id,
            endpoint: Endpoint(host: "10.0.0.7", port: port),
            metadata: ["zone": "a"]
        )
    }

    static func uniqueService() -> String { "beacon-consul-\(UUID().uuidString.prefix(8))" }

    /// How long the fake takes to deregister a critical service: Consul's one-minute minimum and 30 s reaper, scaled.
    static var deregistrationTime: Duration {
        let scale = Double((try? TestServers.value("BEACON_CONSUL_TIME_SCALE")) ?? "1") ?? 1
        return .seconds(90 * scale) + .seconds(2)
    }

    static func eventually(
        _ what: String,
        within timeout: Duration = .seconds(20),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    struct TimedOut: Error {
        var what: String
    }

    @Test("present and passing while alive, gone right after cancel; the watch follows both")
    func presentThenCancelled() async throws {
        let consul = try ConsulClientTests.client()
        let service = Self.uniqueService()
        let instance = Self.instance(service)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consul.run() }
            var watch = consul.watchInstances(of: service).makeAsyncIterator()
            #expect(try await watch.next() == [])
            let registration = try await consul.register(instance, ttl: .seconds(4))
            // Passing from the start; on a machine stalled past the TTL the check can turn critical before this read,
            // until run()'s next pass.
            try await Self.eventually("the instance listed as passing") {
                try await consul.instances(of: service) == [instance]
            }
            #expect(try await watch.next() == [instance])
            // Alive across two TTLs and more: run() passes the check every third of it (a TTL long enough for a
            // loaded machine and a fake agent in Python to answer each pass in time).
            try await Task.sleep(for: .seconds(9))
            #expect(try await consul.instances(of: service) == [instance])
            await registration.cancel()
            #expect(try await consul.instances(of: service).isEmpty)
            #expect(try await watch.next() == [])
            group.cancelAll()
        }
    }

    @Test("critical, then deregistered, when the passes stop")
    func criticalThenDeregistered() async throws {
        // Consul's minimum is one minute; the fake agent scales it (and its reaper) down, the client asks for less.
        let registrar = try ConsulClientTests.client(deregisterCriticalServiceAfter: .seconds(1))
        let observer = try ConsulClientTests.client()
        defer { observer.close() }
        let service = Self.uniqueService()
        let instance = Self.instance(service)
        _ = try await registrar.register(instance, ttl: .seconds(1))
        #expect(try await observer.instances(of: service) == [instance])
        // Closing stops the passes without deregistering (run() never ran): the check goes critical after its TTL.
        registrar.close()
        try await Self.eventually("the instance leaves ?passing") { try await observer.instances(of: service).isEmpty }
        #expect(try await observer.agentServices().contains(instance.id))
        try await Self.eventually("the agent deregisters it", within: Self.deregistrationTime + .seconds(10)) {
            try await !observer.agentServices().contains(instance.id)
        }
    }

    @Test("registered again after the agent restarts (the KV data survives, the agent's services do not)")
    func agentRestart() async throws {
        // On the fake that only this suite disturbs.
        let agents = try TestServers.value("BEACON_CONSUL_FAULTS_AGENTS").split(separator: ",").map(String.init)
        let consul = try ConsulClientTests.client(agents: [agents[0]])
        let service = Self.uniqueService()
        let instance = Self.instance(service)
        let key = TestServers.uniquePrefix("consul-restart") + "kept"
        try await consul.put(key, "kept across the restart")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consul.run() }
            _ = try await consul.register(instance, ttl: .seconds(1))
            try await TestServers.runInBackground("restart", "consul-faults")
            #expect(try await consul.get(key)?.string == "kept across the restart")
            try await Self.eventually("the registration is back") {
                try await consul.instances(of: service) == [instance]
            }
            group.cancelAll()
        }
        let observer = try ConsulClientTests.client(agents: [agents[0]])
        defer { observer.close() }
        #expect(try await observer.instances(of: service).isEmpty)
        try await observer.delete(key)
    }

    @Test("after failing over to another agent, the registration is made there")
    func failover() async throws {
        let agents = try TestServers.value("BEACON_CONSUL_FAULTS_AGENTS").split(separator: ",").map(String.init)
        try #require(agents.count == 2)
        let consul = try ConsulClientTests.client(agents: agents)
        let service = Self.uniqueService()
        let instance = Self.instance(service)
        let firstPort = try #require(URL(string: agents[0])?.port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consul.run() }
            _ = try await consul.register(instance, ttl: .seconds(1))
            #expect(consul.currentAgent == agents[0])
            try await ConsulClientTests.control("/agents/\(firstPort)/stop", at: "BEACON_CONSUL_FAULTS_CONTROL")
            do {
                try await Self.eventually("the registration moves to the second agent") {
                    (try? await consul.instances(of: service)) == [instance] && consul.currentAgent == agents[1]
                }
            } catch {
                try await ConsulClientTests.control("/agents/\(firstPort)/start", at: "BEACON_CONSUL_FAULTS_CONTROL")
                throw error
            }
            try await ConsulClientTests.control("/agents/\(firstPort)/start", at: "BEACON_CONSUL_FAULTS_CONTROL")
            group.cancelAll()
        }
        let observer = try ConsulClientTests.client(agents: [agents[1]])
        defer { observer.close() }
        #expect(try await observer.instances(of: service).isEmpty)
    }
}

extension ConsulClient {
    /// The IDs of the current agent's services (`/v1/agent/services`), for tests.
    func agentServices() async throws -> [String] {
        let http = HTTPClient()
        defer { http.close() }
        let response = try await http.execute(HTTPRequest(url: self.currentAgent + "/v1/agent/services"))
        let object = try JSONValue.parse(response.body)
        guard case .object(let members) = object else { return [] }
        return members.map(\.key)
    }
}
