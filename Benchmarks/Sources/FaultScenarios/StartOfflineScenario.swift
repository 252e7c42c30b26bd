// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconEtcd
import Foundation

/// Scenario 7: an application starts while its discovery backend (the etcd cluster) cannot be reached, with a
/// `CachingSource` that persisted the last good values during an earlier run.
///
/// The earlier run reads a key and a prefix and flushes; then every member's client port is cut off (iptables; when
/// it is missing, the members are frozen instead) and a new client and `CachingSource` over the same directory start,
/// as a restarted process would.
///
/// Goals: the new application's first reads are answered from the persisted values (stale), none fails, each within
/// one walk of the endpoints plus 1 s (the client tries every endpoint once, 2 s connect timeout each, before the
/// cache falls back); once etcd is reachable, a changed value is read fresh within 5 s.
enum StartOfflineScenario {
    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        var row = Row(scenario: "discovery-down-at-start", goalMet: true)
        let endpoints = try Environment.list("BEACON_ETCD_CLUSTER_ENDPOINTS")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = Environment.uniquePrefix("start-offline")
        let key = "\(prefix)db"
        let admin = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { admin.close() }
        try await admin.put(key, "10.0.0.5:5432")
        try await admin.put("\(prefix)replica", "10.0.0.6:5432")

        // The earlier run: reads, persists, exits.
        let earlier = try EtcdClient(configuration: .init(endpoints: endpoints))
        let persisted = CachingSource(earlier, persistenceDirectory: directory.path)
        let value = try await persisted.get(key)
        let list = try await persisted.list(prefix: prefix)
        await persisted.flush()
        earlier.close()

        var configuration = EtcdClient.Configuration(endpoints: endpoints)
        configuration.requestTimeout = .seconds(3)
        let app = try EtcdClient(configuration: configuration)
        defer { app.close() }
        let fault: Fault
        if Environment.canPartition {
            let ports = endpoints.compactMap(Environment.port(of:))
            fault = Fault(
                inject: { for port in ports { try await Faults.partition(port: port) } },
                end: { for port in ports { try await Faults.heal(port: port) } }
            )
            row.notes.append("etcd's client ports cut off (iptables)")
        } else {
            fault = .frozen((1...endpoints.count).map { "etcd-member\($0)" })
            row.notes.append("etcd frozen (no iptables here)")
        }
        let source = CachingSource(app, persistenceDirectory: directory.path)
        // What one request waits at most before the cache falls back: every endpoint tried once.
        let walk =
            Environment.canPartition
            ? configuration.connectTimeout * endpoints.count : configuration.requestTimeout * endpoints.count
        try await fault.during {
            var times: [String] = []
            var slowest = Duration.zero
            for read in 0..<2 {
                let start = ContinuousClock.now
                defer { times.append(start.duration(to: .now).seconds) }
                row.attempted += 1
                do {
                    if read == 0 {
                        let lookup = try await source.lookup(key)
                        row.require(lookup.value == value, "the first get did not return the persisted value")
                        row.require(lookup.freshness.isStale, "the first get was not marked stale")
                    } else {
                        let entries = try await source.list(prefix: prefix)
                        row.require(entries == list, "the first list did not return the persisted entries")
                    }
                    slowest = max(slowest, start.duration(to: .now))
                } catch {
                    row.failed += 1
                    row.notes.append("read \(read + 1) failed: \(error)")
                }
            }
            row.notes.append("first get and first list answered from disk after \(times.joined(separator: " and "))")
            row.require(slowest <= walk + .seconds(1), "a first read took longer than one walk of the endpoints")
        }
        let healed = ContinuousClock.now
        _ = try await EtcdMemberScenario.put(admin, key, "10.0.0.9:5432")
        let fresh = try await eventually(within: .seconds(20)) {
            let lookup = try await source.lookup(key)
            return !lookup.freshness.isStale && lookup.value?.string == "10.0.0.9:5432"
        }
        if fresh { row.recovery = healed.duration(to: .now) }
        row.require(row.failed == 0, "reads failed")
        row.require(row.recovery.map { $0 <= .seconds(5) } ?? false, "no fresh read within 5 s of etcd's return")
        _ = try? await admin.delete(prefix: prefix)
        return row
    }
}
