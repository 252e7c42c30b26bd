// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import Foundation

/// Scenario 1: the etcd member a watch is on stops answering (frozen with SIGSTOP, or cut off by a partition) while
/// changes are put through the other members.
///
/// Goals: the watch has every change within 5 s of the fault (it checks a silent member's `/health` every 2 s and
/// allows 1 s for the answer), or within 1 s of the last put when the puts themselves took longer (the member cut off
/// led the cluster: etcd holds the puts forwarded to it until its own request timeout); nothing lost, no duplicate,
/// no step back in revision, no put failed.
enum EtcdMemberScenario {
    /// How the member is cut off.
    enum Kind: String, Sendable {
        case freeze, partition
    }

    /// Changes put while the member is cut off.
    static let changes = 20

    /// Runs the scenario.
    @concurrent
    static func run(_ fault: Kind) async throws -> Row {
        var row = Row(scenario: "etcd-\(fault == .freeze ? "frozen" : "partitioned")-member", goalMet: true)
        let endpoints = try Environment.list("BEACON_ETCD_CLUSTER_ENDPOINTS")
        let watcher = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { watcher.close() }
        let prefix = Environment.uniquePrefix("etcd-\(fault.rawValue)")
        func key(_ index: Int) -> String { "\(prefix)\(String(index + 1_000))" }

        try await watcher.put(key(0), "0")
        let recorder = WatchRecorder(watcher.watch(prefix: prefix))
        defer { recorder.stop() }
        guard try await recorder.arrival(within: .seconds(10), where: { $0.count == 1 }) != nil else {
            throw ScenarioError("the watch delivered no first snapshot")
        }
        let member = watcher.currentEndpoint
        guard let index = endpoints.firstIndex(of: member), let port = Environment.port(of: member) else {
            throw ScenarioError("the watch's member \(member) is not one of \(endpoints)")
        }
        let instance = "etcd-member\(index + 1)"
        let leads = try await Self.isLeader(member)
        row.notes.append(
            "\(fault == .freeze ? "froze" : "partitioned") \(instance), the watch's member"
                + (leads ? " and the cluster's leader" : " (a follower)")
        )
        let writer = try EtcdClient(configuration: .init(endpoints: endpoints.filter { $0 != member }))
        defer { writer.close() }

        // Counted from when the fault is in place (the freeze or the rules done).
        var start = ContinuousClock.now
        let expected = Set((0...Self.changes).map(key))
        var retries = 0
        var putsDone = start
        let cut = fault == .freeze ? Fault.frozen([instance]) : Fault.partitioned(port: port)
        let arrival = try await cut.during {
            start = .now
            for value in 1...Self.changes {
                row.attempted += 1
                do {
                    retries += try await Self.put(writer, key(value), String(value))
                } catch {
                    row.failed += 1
                }
            }
            putsDone = .now
            return try await recorder.arrival(within: .seconds(30)) { Set($0.map(\.key)) == expected }
        }
        if retries > 0 { row.notes.append("\(retries) put(s) retried while the cluster elected a leader") }
        row.recovery = arrival.map { start.duration(to: $0) }
        let firstChange = try await recorder.arrival(within: .zero) { $0.count > 1 }
        row.notes.append(
            "puts done after \(start.duration(to: putsDone).seconds), first change seen after "
                + (firstChange.map { start.duration(to: $0).seconds } ?? "-")
        )

        // Once the member is back: the watch's last snapshot is the store's content.
        let store = try await writer.list(prefix: prefix)
        _ = try await eventually(within: .seconds(10)) { recorder.lost(comparedWith: store) == 0 }
        row.lost = recorder.lost(comparedWith: store)
        row.duplicates = recorder.duplicates
        row.notes.append("the watch on \(watcher.currentEndpoint) afterwards")
        row.require(arrival != nil, "the watch never had every change")
        // The watch cannot show a change before the cluster has accepted it: with the leader cut off, etcd answers the
        // puts it had forwarded there only after its own request timeout (5 s plus two election timeouts).
        let lag = arrival.map { max(.zero, putsDone.duration(to: $0)) }
        if let lag { row.notes.append("the watch had the last change \(lag.seconds) after its put returned") }
        row.require(
            row.recovery.map { $0 <= .seconds(5) } ?? false || lag.map { $0 <= .seconds(1) } ?? false,
            "the watch took longer than 5 s after the fault, and longer than 1 s after the last put"
        )
        row.require(row.failed == 0, "puts failed")
        row.require(row.lost == 0, "entries lost")
        row.require(row.duplicates == 0, "duplicate snapshots")
        row.require(recorder.regressions == 0, "\(recorder.regressions) snapshot(s) went back in revision")
        row.require(recorder.error == nil, "the watch ended: \(recorder.error ?? "")")
        _ = try? await writer.delete(prefix: prefix)
        return row
    }

    /// Whether the member at `endpoint` leads its cluster (`/v3/maintenance/status`: its `leader` is its own id).
    static func isLeader(_ endpoint: String) async throws -> Bool {
        let answer = try await Command.output([
            "curl", "-sS", "-m", "5", "-X", "POST", "-d", "{}", "\(endpoint)/v3/maintenance/status",
        ])
        guard
            let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
            let header = object["header"] as? [String: Any],
            let leader = object["leader"] as? String,
            let member = header["member_id"] as? String
        else { throw ScenarioError("no status from \(endpoint): \(answer)") }
        return leader == member
    }

    /// Puts through `client`, retrying for up to 10 s while the cluster elects a leader (the cut-off member may have
    /// led it). Returns the number of retries.
    static func put(_ client: EtcdClient, _ key: String, _ value: String) async throws -> Int {
        var attempt = 0
        while true {
            do {
                try await client.put(key, value)
                return attempt
            } catch {
                attempt += 1
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// A scenario could not run its workload (as opposed to running it and missing a goal).
struct ScenarioError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    /// Creates an error saying what went wrong.
    init(_ description: String) { self.description = description }
}
