// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconEtcd

/// Scenario 2: the whole etcd cluster is down for 30 s (its three members stopped) while an application reads a key
/// through a `CachingSource` with stale-if-error and watches a prefix through it.
///
/// Goals: no read fails (stale values are served during the outage); once the cluster is back, the application reads
/// fresh values and its watch resumes by itself, within 10 s; the watch loses nothing and repeats nothing.
enum EtcdOutageScenario {
    /// How long the cluster stays down, counted from the stop.
    static let outage = Duration.seconds(30)

    /// What the reader saw.
    struct Reads: Sendable {
        var attempted = 0
        var failed = 0
        var stale = 0
        var slowest = Duration.zero
        var slowestAt: ContinuousClock.Instant?
        var lastFresh: (value: String, at: ContinuousClock.Instant)?
        var firstError: String?
    }

    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        var row = Row(scenario: "etcd-cluster-down-30s", goalMet: true)
        let endpoints = try Environment.list("BEACON_ETCD_CLUSTER_ENDPOINTS")
        let members = (1...endpoints.count).map { "etcd-member\($0)" }
        let admin = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { admin.close() }
        let app = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { app.close() }
        let source = CachingSource(
            app,
            configuration: TTLCacheConfiguration(
                ttl: .seconds(1),
                maxStale: .seconds(300),
                staleRetryInterval: .seconds(1)
            )
        )
        let prefix = Environment.uniquePrefix("etcd-outage")
        let key = "\(prefix)db"
        try await admin.put(key, "before")
        let recorder = WatchRecorder(source.watch(prefix: prefix))
        defer { recorder.stop() }
        guard try await recorder.arrival(within: .seconds(10), where: { $0.count == 1 }) != nil else {
            throw ScenarioError("the watch delivered no first snapshot")
        }

        let reads = Locked(Reads())
        let reader = Task {
            while !Task.isCancelled {
                let start = ContinuousClock.now
                let result: Result<CacheLookup<KeyValue>, any Error>
                do {
                    result = .success(try await source.lookup(key))
                } catch {
                    result = .failure(error)
                }
                let latency = start.duration(to: .now)
                reads.withLock { reads in
                    reads.attempted += 1
                    if latency > reads.slowest {
                        reads.slowest = latency
                        reads.slowestAt = start
                    }
                    switch result {
                    case .success(let lookup) where lookup.freshness.isStale:
                        reads.stale += 1
                    case .success(let lookup):
                        reads.lastFresh = (lookup.value?.string ?? "(absent)", .now)
                    case .failure(let error):
                        reads.failed += 1
                        reads.firstError = reads.firstError ?? "\(error)"
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { reader.cancel() }
        try await Task.sleep(for: .seconds(2))

        let down = ContinuousClock.now
        var back = down
        try await Fault.stopped(members).during {
            try await Task.sleep(until: down + Self.outage)
        }
        back = .now
        row.notes.append("cluster down \(down.duration(to: back).seconds) (stop to healthy again)")
        _ = try await EtcdMemberScenario.put(admin, key, "after")
        let fresh = try await eventually(within: .seconds(20)) {
            reads.withLock { $0.lastFresh?.value == "after" }
        }
        let watched = try await recorder.arrival(within: .seconds(20)) { $0[key: key]?.string == "after" }
        reader.cancel()
        _ = await reader.value

        let final = reads.withLock { $0 }
        row.attempted = final.attempted
        row.failed = final.failed
        if let freshAt = final.lastFresh?.at, fresh, let watched {
            row.recovery = back.duration(to: max(freshAt, watched))
            row.notes.append(
                "fresh read \(back.duration(to: freshAt).seconds), watch \(back.duration(to: watched).seconds) after"
            )
        }
        let slowestAt = final.slowestAt.map { down.duration(to: $0).seconds } ?? "-"
        row.notes.append(
            "\(final.stale) stale reads served, slowest read \(final.slowest.milliseconds) (started \(slowestAt) after "
                + "the stop)"
        )
        let store = try await admin.list(prefix: prefix)
        _ = try await eventually(within: .seconds(10)) { recorder.lost(comparedWith: store) == 0 }
        row.lost = recorder.lost(comparedWith: store)
        row.duplicates = recorder.duplicates
        row.require(final.failed == 0, "reads failed (first: \(final.firstError ?? "?"))")
        row.require(final.stale > 0, "no stale value was served during the outage")
        row.require(fresh, "no fresh read after the cluster came back")
        row.require(watched != nil, "the watch did not resume")
        row.require(row.recovery.map { $0 <= .seconds(10) } ?? false, "recovery took longer than 10 s")
        row.require(row.lost == 0, "entries lost")
        row.require(row.duplicates == 0, "duplicate snapshots")
        row.require(recorder.regressions == 0, "\(recorder.regressions) snapshot(s) went back in revision")
        row.require(recorder.error == nil, "the watch ended: \(recorder.error ?? "")")
        _ = try? await admin.delete(prefix: prefix)
        return row
    }
}
