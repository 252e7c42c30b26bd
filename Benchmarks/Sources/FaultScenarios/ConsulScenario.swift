// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import Foundation

/// Scenario 6: the fake Consul agent (`consul-faults`) restarts while an application watches a KV prefix and keeps a
/// TTL registration alive through it; the agent keeps its KV store and index, and forgets its services.
///
/// Goals: once the agent is back, the registration is made again and the watch has every change put after the
/// restart, within 10 s; nothing lost, no duplicate, no step back in `ModifyIndex`; no put fails.
enum ConsulScenario {
    /// Changes put right after the restart.
    static let changes = 10

    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        var row = Row(scenario: "consul-agent-restart", goalMet: true)
        let agent = try Environment.list("BEACON_CONSUL_FAULTS_AGENTS")[0]
        let app = try ConsulClient(configuration: .init(agents: [agent], watchWait: .seconds(10)))
        let writer = try ConsulClient(configuration: .init(agents: [agent]))
        defer { writer.close() }
        let running = Task { await app.run() }
        defer { running.cancel() }
        let service = "faults-consul-\(UUID().uuidString.prefix(8))"
        let instance = ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        let prefix = Environment.uniquePrefix("consul")
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 1_000))" }
        _ = try await app.register(instance, ttl: .seconds(2))
        try await writer.put(key(0), "0")
        let recorder = WatchRecorder(app.watch(prefix: prefix))
        defer { recorder.stop() }
        guard try await recorder.arrival(within: .seconds(10), where: { $0.count == 1 }) != nil else {
            throw ScenarioError("the watch delivered no first snapshot")
        }

        let restart = ContinuousClock.now
        try await Faults.servers(["restart", "consul-faults"])
        let back = ContinuousClock.now
        row.notes.append("agent restarted in \(restart.duration(to: back).seconds)")
        for value in 1...Self.changes {
            row.attempted += 1
            do {
                try await writer.put(key(value), String(value))
            } catch {
                row.failed += 1
            }
        }
        let expected = Set((0...Self.changes).map(key))
        let registered = try await eventually(within: .seconds(30)) {
            try await writer.instances(of: service) == [instance]
        }
        let registeredAt = ContinuousClock.now
        let watched = try await recorder.arrival(within: .seconds(30)) { Set($0.map(\.key)) == expected }
        if registered, let watched {
            row.recovery = back.duration(to: max(registeredAt, watched))
            row.notes.append(
                "registration back \(back.duration(to: registeredAt).seconds), "
                    + "watch complete \(back.duration(to: watched).seconds) after the agent"
            )
        }
        let store = try await writer.list(prefix: prefix)
        _ = try await eventually(within: .seconds(10)) { recorder.lost(comparedWith: store) == 0 }
        row.lost = recorder.lost(comparedWith: store)
        row.duplicates = recorder.duplicates
        row.require(registered, "the registration did not come back")
        row.require(watched != nil, "the watch never had every change")
        row.require(row.recovery.map { $0 <= .seconds(10) } ?? false, "recovery took longer than 10 s")
        row.require(row.failed == 0, "puts failed")
        row.require(row.lost == 0, "entries lost")
        row.require(row.duplicates == 0, "duplicate snapshots")
        row.require(recorder.regressions == 0, "\(recorder.regressions) snapshot(s) went back in ModifyIndex")
        row.require(recorder.error == nil, "the watch ended: \(recorder.error ?? "")")
        recorder.stop()
        running.cancel()
        await running.value
        _ = try? await writer.delete(prefix: prefix)
        return row
    }
}
