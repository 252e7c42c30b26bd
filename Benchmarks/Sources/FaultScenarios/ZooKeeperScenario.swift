// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconZooKeeper
import Foundation

/// Scenario 5: a `ZooKeeperClient` with a registration (an ephemeral node) and a watch is cut off from ZooKeeper
/// longer than its 4 s session timeout, so that the server expires its session, while another client changes the
/// watched prefix.
///
/// The client connects through a second port that iptables redirects to the server's, and the partition drops only
/// the connections made through it: the server and the other client go on.
///
/// Goals: once the partition ends, the client opens a new session, its registration comes back and its watch has
/// every change made meanwhile, within 10 s; nothing lost, no duplicate, no step back in `mzxid`.
enum ZooKeeperScenario {
    /// The port the client connects to, redirected to the server's.
    static let redirectedPort = 21819
    /// Changes made while the client is cut off.
    static let changes = 10

    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        guard Environment.canPartition else { throw ScenarioError("needs iptables, to cut one client off") }
        var row = Row(scenario: "zookeeper-session-expiry", goalMet: true)
        let endpoint = try Environment.value("BEACON_ZOOKEEPER_ENDPOINT")
        guard let port = Environment.port(of: endpoint) else { throw ScenarioError("no port in \(endpoint)") }
        try await Faults.redirect(Self.redirectedPort, to: port)
        do {
            try await Self.run(&row, endpoint: endpoint)
        } catch {
            try? await Faults.removeRedirect(Self.redirectedPort, to: port)
            throw error
        }
        try await Faults.removeRedirect(Self.redirectedPort, to: port)
        return row
    }

    private static func run(_ row: inout Row, endpoint: String) async throws {
        let client = try ZooKeeperClient(
            configuration: .init(
                servers: ["127.0.0.1:\(Self.redirectedPort)"],
                sessionTimeout: .seconds(4),
                requestTimeout: .seconds(30)
            )
        )
        let observer = try ZooKeeperClient(configuration: .init(servers: [endpoint]))
        let running = Task { await client.run() }
        let service = "faults-zk-\(UUID().uuidString.prefix(8))"
        let instance = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        let root = Environment.uniquePrefix("zookeeper").dropLast()
        func key(_ index: Int) -> String { "\(root)/\(String(index + 1_000))" }
        _ = try await client.register(instance, ttl: .seconds(10))
        try await client.put(key(0), "0")
        let recorder = WatchRecorder(client.watch(prefix: "\(root)/"))
        defer {
            recorder.stop()
            running.cancel()
        }
        guard try await recorder.arrival(within: .seconds(10), where: { $0.count == 1 }) != nil else {
            throw ScenarioError("the watch delivered no first snapshot")
        }

        let expected = Set((0...Self.changes).map(key))
        let cutOff = ContinuousClock.now
        let expired = try await Fault.partitioned(redirected: Self.redirectedPort).during {
            for value in 1...Self.changes {
                row.attempted += 1
                do {
                    try await observer.put(key(value), String(value))
                } catch {
                    row.failed += 1
                }
            }
            // The server deletes the ephemeral node when it expires the session.
            return try await eventually(within: .seconds(20)) { try await observer.instances(of: service).isEmpty }
        }
        let healed = ContinuousClock.now
        row.notes.append("cut off for \(cutOff.duration(to: healed).seconds)")
        row.require(expired, "the session did not expire while the client was cut off")

        let registered = try await eventually(within: .seconds(30)) {
            try await observer.instances(of: service) == [instance]
        }
        let registeredAt = ContinuousClock.now
        let watched = try await recorder.arrival(within: .seconds(30)) { Set($0.map(\.key)) == expected }
        if registered, let watched {
            row.recovery = healed.duration(to: max(registeredAt, watched))
            row.notes.append(
                "registration back \(healed.duration(to: registeredAt).seconds), "
                    + "watch complete \(healed.duration(to: watched).seconds) after"
            )
        }
        row.notes.append("session expirations seen: \(client.sessionExpirations)")
        let store = try await observer.list(prefix: "\(root)/")
        _ = try await eventually(within: .seconds(10)) { recorder.lost(comparedWith: store) == 0 }
        row.lost = recorder.lost(comparedWith: store)
        row.duplicates = recorder.duplicates
        row.require(registered, "the registration did not come back")
        row.require(watched != nil, "the watch never had every change")
        row.require(client.sessionExpirations == 1, "the client saw \(client.sessionExpirations) expirations, not 1")
        row.require(row.recovery.map { $0 <= .seconds(10) } ?? false, "recovery took longer than 10 s")
        row.require(row.failed == 0, "changes failed")
        row.require(row.lost == 0, "entries lost")
        row.require(row.duplicates == 0, "duplicate snapshots")
        row.require(recorder.regressions == 0, "\(recorder.regressions) snapshot(s) went back in mzxid")
        row.require(recorder.error == nil, "the watch ended: \(recorder.error ?? "")")
        recorder.stop()
        running.cancel()
        await running.value
        _ = try? await observer.delete(prefix: "\(root)/")
        await observer.close()
    }
}
