// SPDX-License-Identifier: Apache-2.0

/// A named fault scenario with its hard time limit.
struct Scenario: Sendable {
    /// The name `scripts/faults` takes.
    var name: String
    /// One line on what is done.
    var summary: String
    /// The instances of `scripts/servers` it needs.
    var servers: [String]
    /// After how long it is cancelled.
    var limit: Duration
    /// Runs it.
    var run: @Sendable () async throws -> Row

    /// Every scenario, in the order they run.
    static let all: [Scenario] = [
        Scenario(
            name: "etcd-frozen-member",
            summary: "the watch's etcd member is frozen (SIGSTOP) while changes go through the others",
            servers: ["etcd-cluster"],
            limit: .seconds(90)
        ) { try await EtcdMemberScenario.run(.freeze) },
        Scenario(
            name: "etcd-partitioned-member",
            summary: "the watch's etcd member is cut off by a partition (iptables) while changes go through the others",
            servers: ["etcd-cluster"],
            limit: .seconds(90)
        ) { try await EtcdMemberScenario.run(.partition) },
        Scenario(
            name: "etcd-cluster-down",
            summary: "all three etcd members are stopped for 30 s while an app reads through a stale-if-error cache",
            servers: ["etcd-cluster"],
            limit: .seconds(120)
        ) { try await EtcdOutageScenario.run() },
        Scenario(
            name: "memcached-frozen-node",
            summary: "one memcached server of three is frozen for 8 s under eight workers",
            servers: ["memcached"],
            limit: .seconds(60)
        ) { try await MemcachedScenario.run() },
        Scenario(
            name: "postgres-frozen-mid-query",
            summary: "PostgreSQL is frozen during SELECT pg_sleep(5) under a pool with a 2 s query timeout",
            servers: ["postgres-a"],
            limit: .seconds(60)
        ) { try await PostgresScenario.run() },
        Scenario(
            name: "zookeeper-session-expiry",
            summary: "a ZooKeeper client with a registration and a watch is cut off until its session expires",
            servers: ["zookeeper"],
            limit: .seconds(90)
        ) { try await ZooKeeperScenario.run() },
        Scenario(
            name: "consul-agent-restart",
            summary: "the fake Consul agent restarts under a KV watch and a TTL registration",
            servers: ["consul-faults"],
            limit: .seconds(60)
        ) { try await ConsulScenario.run() },
        Scenario(
            name: "discovery-down-at-start",
            summary: "an app starts while etcd is unreachable, from the values its cache persisted in an earlier run",
            servers: ["etcd-cluster"],
            limit: .seconds(60)
        ) { try await StartOfflineScenario.run() },
    ]

    /// Runs the scenario within its time limit; a scenario that throws or overruns gives a row with its goal missed.
    @concurrent
    func row() async -> Row {
        do {
            return try await withTimeLimit(self.limit, self.run)
        } catch {
            return Row(scenario: self.name, goalMet: false, notes: ["MISSED: \(error)"])
        }
    }
}
