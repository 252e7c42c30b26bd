// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconEtcd
import BeaconLocks
import BeaconPostgres
import BeaconZooKeeper
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

/// A two-node Patroni cluster of `scripts/servers`, found through the variables it exports: the pair on its own etcd
/// (`patroni`), or the pair on the ZooKeeper ensemble (`patroni-zk`).
struct PatroniCluster {
    /// Where the cluster keeps its state.
    enum Store: String, Sendable, CustomStringConvertible {
        case etcd
        case zookeeper

        var description: String { self.rawValue }
    }

    /// A client of the cluster's store, and how to close it.
    struct StoreClient {
        let source: any DiscoverySource
        let close: @Sendable () async -> Void
    }

    let store: Store
    let location: DiscoveryLocation
    let ports: [String: Int]  // member name -> PostgreSQL port
    let overrides: PostgresConnectionFactory.Overrides

    init(_ store: Store = .etcd) throws {
        self.store = store
        let prefix = store == .etcd ? "BEACON_PATRONI_" : "BEACON_PATRONI_ZK_"
        self.location = .patroniLeader(
            scope: try TestServers.value("\(prefix)SCOPE"),
            namespace: try TestServers.value("\(prefix)NAMESPACE")
        )
        var ports: [String: Int] = [:]
        for node in 1...2 {
            ports[try TestServers.value("\(prefix)\(node)_NAME")] =
                Int(try TestServers.value("\(prefix)\(node)_PORT")) ?? 0
        }
        self.ports = ports
        self.overrides = .init(
            user: try TestServers.value("BEACON_PATRONI_APP_USER"),
            password: try TestServers.value("BEACON_PATRONI_APP_PASSWORD"),
            database: try TestServers.value("BEACON_PATRONI_DATABASE"),
            connectTimeout: .seconds(5),
            applicationName: "beacon-patroni-tests"
        )
    }

    /// A client of the store the cluster keeps its leader key in.
    func makeStoreClient() throws -> StoreClient {
        switch self.store {
        case .etcd:
            let etcd = try EtcdClient(
                configuration: .init(endpoints: [try TestServers.value("BEACON_PATRONI_ETCD_ENDPOINT")])
            )
            return StoreClient(source: etcd, close: { etcd.close() })
        case .zookeeper:
            let servers = try TestServers.value("BEACON_PATRONI_ZK_ZOOKEEPER").split(separator: ",").map(String.init)
            let zookeeper = try ZooKeeperClient(configuration: .init(servers: servers))
            return StoreClient(source: zookeeper, close: { await zookeeper.close() })
        }
    }

    /// The `scripts/servers` group that starts the cluster.
    var group: String { self.store == .etcd ? "patroni" : "patroni-zk" }

    /// The `scripts/servers` instance of a member (`n1` -> `patroni-1`, `z1` -> `patroni-zk-1`).
    func instance(_ member: String) -> String { "\(self.group)-\(member.dropFirst())" }

    /// Waits until every member but the leader, read as a hot standby, has the table (at most 60 s).
    func waitUntilReplicasSee(table: String, leader: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        for (member, port) in self.ports where member != leader {
            var parameters = PostgresParameters(endpoints: [Endpoint(host: "127.0.0.1", port: port)])
            parameters = self.overrides.applied(to: parameters)
            while true {
                let found: Bool
                do {
                    let connection = try await PostgresConnection.connect(
                        to: parameters,
                        logger: PostgresServers.quietLogger
                    )
                    defer { connection.close() }
                    let rows = try await connection.query("SELECT to_regclass($1) IS NOT NULL", [.text(table)])
                    found = try rows[0].decode(Bool.self, column: 0)
                } catch {
                    found = false
                }
                if found { break }
                guard ContinuousClock.now < deadline else {
                    throw PatroniTestFailure(message: "\(member) has not replayed the creation of \(table) after 60 s")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The member that is not `member`.
    func other(than member: String) -> String { self.ports.keys.first { $0 != member } ?? member }

    /// Brings the cluster to two healthy nodes (the start command waits for both) and returns the leader's name.
    func healthyLeader(_ store: any DiscoverySource) async throws -> String {
        try await TestServers.runInBackground("start", self.group)
        let leaderKey = self.location.patroni?.leaderKey ?? ""
        let deadline = ContinuousClock.now + .seconds(60)
        let membersPrefix = self.location.patroni?.membersPrefix ?? ""
        while ContinuousClock.now < deadline {
            // A leader, and both members running, the other one as a replica: only then can it take over.
            if let leader = try await store.get(leaderKey)?.string, !leader.isEmpty {
                let members = try await store.list(prefix: membersPrefix).compactMap { entry in
                    try? DiscoveryLocation.PatroniMember(
                        name: String(entry.key.dropFirst(membersPrefix.count)),
                        decoding: entry
                    )
                }
                let running = members.filter { $0.state == "running" }
                if running.count == 2, running.contains(where: { $0.name != leader && $0.role == "replica" }) {
                    return leader
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PatroniTestFailure(message: "no leader with a running replica after 60 s")
    }
}

struct PatroniTestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// One write of the stream: when it started and ended, and where it landed or why it failed.
struct WriteRecord: Sendable {
    var writer: Int
    var started: ContinuousClock.Instant
    var ended: ContinuousClock.Instant
    var port: Int?
    var inRecovery: Bool?
    var error: PostgresError?
    var otherError: String?
}

/// What the writers, the leader watch and the test share.
final class StreamState: Sendable {
    let records = Lock<[WriteRecord]>([])
    let stop = Atomic<Bool>(false)
    /// The new leader's name and when its key was seen.
    let changed = Lock<(String, ContinuousClock.Instant)?>(nil)

    func count(_ predicate: (WriteRecord) -> Bool) -> Int { self.records.withLock { $0.filter(predicate).count } }
    var change: (String, ContinuousClock.Instant)? { self.changed.withLock { $0 } }
}

/// A stream of writes through a pool over a factory following the Patroni leader, while the leader is killed or
/// switched over. Serialized: both cases move the one cluster's leader, and each leaves two healthy nodes behind.
@Suite("Patroni: writes through a failover", .requiresServers, .serialized, .timeLimit(.minutes(5)))
struct PatroniTests {
    static let writers = 4

    /// Everything a case needs, torn down by `run`.
    struct Harness {
        let cluster: PatroniCluster
        let store: any DiscoverySource
        let factory: PostgresConnectionFactory
        let pool: PostgresConnectionPool
        let logs: InMemoryLogHandler
    }

    /// Sets up the store's client, the factory (deadline covering the failover) and the pool; runs the factory's
    /// watch and `body`.
    func run(_ store: PatroniCluster.Store = .etcd, _ body: (Harness) async throws -> Void) async throws {
        let cluster = try PatroniCluster(store)
        let client = try cluster.makeStoreClient()
        let store = client.source
        do {
            try await self.run(cluster, store, body)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    private func run<Store: DiscoverySource>(
        _ cluster: PatroniCluster,
        _ store: Store,
        _ body: (Harness) async throws -> Void
    ) async throws {
        _ = try await cluster.healthyLeader(store)
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in logs })
        logger.logLevel = .debug
        let ttl = Int(try TestServers.value("BEACON_PATRONI_TTL")) ?? 10
        let factory = PostgresConnectionFactory(
            source: CachingSource(store, configuration: .init(ttl: .seconds(600))),
            location: cluster.location,
            overrides: cluster.overrides,
            // The leader key lives for `ttl` after its leader died: retry for three times that.
            retryPolicy: PostgresRetryPolicy(maximumBackoff: .seconds(1), deadline: .seconds(3 * ttl)),
            logger: logger
        )
        let pool = PostgresConnectionPool(
            factory: factory,
            configuration: .init(maxConnections: Self.writers),
            logger: logger
        )
        defer { pool.close() }
        try await withThrowingTaskGroup { group in
            group.addTask { await pool.run() }  // follows the leader
            defer { group.cancelAll() }
            _ = try await pool.withConnection { connection in
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS beacon_failover_writes "
                        + "(id bigserial PRIMARY KEY, writer int NOT NULL, seq int NOT NULL, at timestamptz DEFAULT now())"
                )
            }
            // Replication is asynchronous: a table the replica has not replayed yet would be lost by a failover.
            try await cluster.waitUntilReplicasSee(
                table: "beacon_failover_writes",
                leader: try await cluster.healthyLeader(store)
            )
            try await body(Harness(cluster: cluster, store: store, factory: factory, pool: pool, logs: logs))
        }
    }

    /// Writes from `writers` tasks until `stop` is set; every outcome is recorded.
    static func writeStream(_ pool: PostgresConnectionPool, _ state: StreamState) async {
        await withDiscardingTaskGroup { group in
            for writer in 0..<Self.writers {
                group.addTask {
                    var seq = 0
                    while !state.stop.load(ordering: .relaxed) {
                        seq += 1
                        let started = ContinuousClock.now
                        var record = WriteRecord(writer: writer, started: started, ended: started)
                        do {
                            let rows = try await pool.withConnection { connection in
                                try await connection.query(
                                    "INSERT INTO beacon_failover_writes (writer, seq) VALUES ($1, $2) "
                                        + "RETURNING inet_server_port(), pg_is_in_recovery()",
                                    [.integer(writer), .integer(seq)]
                                )
                            }
                            record.port = try rows[0].decode(Int.self, column: 0)
                            record.inRecovery = try rows[0].decode(Bool.self, column: 1)
                        } catch let error as PostgresError {
                            record.error = error
                        } catch {
                            record.otherError = "\(error)"
                        }
                        record.ended = ContinuousClock.now
                        state.records.withLock { $0.append(record) }
                        // Pacing, so that the stream does not starve the two cores the servers share.
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
            }
        }
    }

    /// Waits until `condition` holds, polling; fails after `timeout`.
    static func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(90),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw PatroniTestFailure(message: "timed out: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Follows the leader key and records when it first names another member than `old`.
    static func watchLeaderChange(
        _ store: any DiscoverySource,
        _ cluster: PatroniCluster,
        from old: String,
        into state: StreamState
    ) async throws {
        let leaderKey = cluster.location.patroni?.leaderKey ?? ""
        for try await snapshot in store.watch(prefix: leaderKey) {
            let now = ContinuousClock.now
            if let leader = snapshot[key: leaderKey]?.string, !leader.isEmpty, leader != old {
                state.changed.withLock { $0 = (leader, now) }
                return
            }
        }
    }

    /// The figures of a case, printed in the test output.
    static func report(
        _ title: String,
        _ records: [WriteRecord],
        change: ContinuousClock.Instant,
        newPort: Int,
        logs: InMemoryLogHandler
    ) -> Duration? {
        let ok = records.filter { $0.port != nil }
        let failed = records.filter { $0.port == nil }
        let firstOnNew = ok.filter { $0.port == newPort && $0.ended >= change }.map(\.ended).min()
        let messages = logs.entries.map { "\($0.message)" }
        let retried = messages.filter { $0.hasPrefix("postgres pool retries on another connection") }.count
        let formerLocation = messages.filter { $0 == "postgres pool discarded an idle connection to a former location" }
            .count
        let brokenIdle = messages.filter { $0 == "postgres pool discarded a broken idle connection" }.count
        let attemptsFailed = messages.filter { $0 == "postgres connection attempt failed" }.count
        var reasons: [String: Int] = [:]
        for record in failed {
            let reason =
                record.error.map { "\($0.code)" + ($0.sqlState.map { " SQLSTATE \($0)" } ?? "") }
                ?? record.otherError ?? "?"
            reasons[reason, default: 0] += 1
        }
        let sinceChange = firstOnNew.map { change.duration(to: $0) }
        print(
            """
            [\(title)] writes attempted \(records.count), ok \(ok.count), failed \(failed.count) \(reasons)
            [\(title)] time from leader-key change to first successful write on the new leader: \
            \(sinceChange.map { "\($0)" } ?? "none")
            [\(title)] pool: \(retried) closures retried (statement never sent), \(formerLocation) idle connections \
            to the former leader closed, \(brokenIdle) broken idle connections discarded; \
            factory: \(attemptsFailed) failed connection attempts
            """
        )
        for record in failed {
            print("[\(title)] failed write (writer \(record.writer)): \(record.error.map { "\($0)" } ?? "") ")
        }
        return sinceChange
    }

    @Test(
        "SIGKILL of the leader's agent and postmaster: writes move to the new leader once its key appears",
        arguments: [PatroniCluster.Store.etcd, .zookeeper]
    )
    func killedLeader(store: PatroniCluster.Store) async throws {
        try await self.run(store) { harness in
            let cluster = harness.cluster
            let old = try await cluster.healthyLeader(harness.store)
            let oldPort = cluster.ports[old] ?? 0
            let newName = cluster.other(than: old)
            let newPort = cluster.ports[newName] ?? 0
            let state = StreamState()
            var killed = ContinuousClock.now
            do {
                try await withThrowingTaskGroup { group in
                    group.addTask { try await Self.watchLeaderChange(harness.store, cluster, from: old, into: state) }
                    group.addTask { await Self.writeStream(harness.pool, state) }
                    defer {
                        state.stop.store(true, ordering: .relaxed)
                        group.cancelAll()
                    }
                    try await Self.waitUntil("20 writes on the leader") {
                        state.count { $0.port == oldPort } >= 20
                    }
                    try await TestServers.runInBackground("kill", cluster.instance(old))
                    killed = ContinuousClock.now
                    try await Self.waitUntil("the leader key names \(newName)") { state.change != nil }
                    let change = state.change?.1 ?? killed
                    try await Self.waitUntil("20 writes on the new leader") {
                        state.count { $0.port == newPort && $0.ended > change } >= 20
                    }
                    // Let the writes in progress end (the leader watch has returned already).
                    state.stop.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }
            } catch {
                try? await TestServers.runInBackground("stop", cluster.instance(old))
                _ = try? await cluster.healthyLeader(harness.store)
                throw error
            }
            let change = try #require(state.change)
            #expect(change.0 == newName)
            let all = state.records.withLock { $0 }
            let sinceChange = Self.report(
                "kill on \(store)",
                all,
                change: change.1,
                newPort: newPort,
                logs: harness.logs
            )
            #expect(sinceChange != nil)
            print(
                "[kill on \(store)] leader key moved \(killed.duration(to: change.1)) after the processes were killed"
            )

            // Every write that ended after the new leader key landed on the new leader, which is not in recovery.
            for record in all where record.port != nil && record.ended > change.1 {
                #expect(record.port == newPort && record.inRecovery == false)
            }
            // Errors reach a writer only for a write in flight at the kill (it started before the processes were
            // dead, or its statement reached the killed server), or for one whose deadline ran out; never for a write
            // whose statement was never sent, nor for one started once the new leader key was published.
            for record in all where record.port == nil {
                let error = try #require(record.error, "\(record.otherError ?? "")")
                let inFlight =
                    record.started < killed || (error.endpoint?.port == oldPort && !error.statementNotSent)
                #expect(inFlight || error.code == .allAttemptsFailed, "\(error)")
                #expect(!error.statementNotSent, "\(error)")
                #expect(record.started < change.1 || error.code == .allAttemptsFailed, "\(error)")
            }

            // Back to two healthy nodes: the crashed node is cloned afresh from the new leader and rejoins as replica.
            try await TestServers.runInBackground("stop", cluster.instance(old))
            #expect(try await cluster.healthyLeader(harness.store) == newName)
        }
    }

    @Test("a planned switchover: only writes in flight at the demotion may fail, with SQLSTATE 57P01")
    func switchover() async throws {
        try await self.run { harness in
            let cluster = harness.cluster
            let old = try await cluster.healthyLeader(harness.store)
            let oldPort = cluster.ports[old] ?? 0
            let newName = cluster.other(than: old)
            let newPort = cluster.ports[newName] ?? 0
            let state = StreamState()
            var requested = ContinuousClock.now
            var done = ContinuousClock.now
            try await withThrowingTaskGroup { group in
                group.addTask { try await Self.watchLeaderChange(harness.store, cluster, from: old, into: state) }
                group.addTask { await Self.writeStream(harness.pool, state) }
                defer {
                    state.stop.store(true, ordering: .relaxed)
                    group.cancelAll()
                }
                try await Self.waitUntil("20 writes on the leader") {
                    state.count { $0.port == oldPort } >= 20
                }
                requested = ContinuousClock.now
                try await TestServers.runInBackground("switchover", cluster.instance(newName))
                done = ContinuousClock.now
                try await Self.waitUntil("the leader key names \(newName)") { state.change != nil }
                let change = state.change?.1 ?? done
                try await Self.waitUntil("20 writes on the new leader") {
                    state.count { $0.port == newPort && $0.ended > change } >= 20
                }
                // Let the writes in progress end (the leader watch has returned already).
                state.stop.store(true, ordering: .relaxed)
                try await group.waitForAll()
            }
            let change = try #require(state.change)
            #expect(change.0 == newName)
            let all = state.records.withLock { $0 }
            let sinceChange = Self.report("switchover", all, change: change.1, newPort: newPort, logs: harness.logs)
            #expect(sinceChange != nil)
            print("[switchover] leader key moved \(requested.duration(to: change.1)) after the request")

            for record in all where record.port != nil && record.ended > change.1 {
                #expect(record.port == newPort && record.inRecovery == false)
            }
            // Only statements that reached the old primary while it was being demoted may fail: 57P01, or their
            // connection closed under them. A write that had not reached the server is retried and does not fail.
            for record in all where record.port == nil {
                let error = try #require(record.error, "\(record.otherError ?? "")")
                #expect(!error.statementNotSent, "\(error)")
                #expect(error.endpoint?.port == oldPort, "\(error)")
                #expect(error.sqlState == .adminShutdown || error.code == .connectionClosed, "\(error)")
                #expect(record.started < change.1, "\(error)")
            }

            // The former primary comes back as a replica: two healthy nodes again.
            #expect(try await cluster.healthyLeader(harness.store) == newName)
        }
    }
}
