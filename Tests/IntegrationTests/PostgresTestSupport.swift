// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconLocks
import BeaconPostgres
import InMemoryLogging
import Logging
import Synchronization

/// The PostgreSQL clusters of `scripts/servers` as discovery values, and helpers shared by the Postgres suites.
enum PostgresServers {
    /// A discovery value (JSON) for the `beacon` database on one cluster, as role `beacon`.
    static func value(cluster: String, password: String? = nil, database: String? = nil) throws -> String {
        // Generous: on a loaded 2-core machine, with the suite's other tests running, a SCRAM connection has been
        // seen to take over 10 seconds.
        let connectTimeout = Int((30 * TestServers.timeScale).rounded(.up))
        let host = try TestServers.value("BEACON_POSTGRES_\(cluster)_HOST")
        let port = try TestServers.value("BEACON_POSTGRES_\(cluster)_PORT")
        let user = try TestServers.value("BEACON_POSTGRES_APP_USER")
        let secret = try password ?? TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
        let name = try database ?? TestServers.value("BEACON_POSTGRES_DATABASE")
        return #"{"host": "\#(host)", "port": \#(port), "database": "\#(name)", "user": "\#(user)", "#
            + #""password": "\#(secret)", "connect_timeout": \#(connectTimeout), "application_name": "beacon-tests"}"#
    }

    /// The endpoint of a cluster.
    static func endpoint(cluster: String) throws -> Endpoint {
        Endpoint(
            host: try TestServers.value("BEACON_POSTGRES_\(cluster)_HOST"),
            port: Int(try TestServers.value("BEACON_POSTGRES_\(cluster)_PORT")) ?? 0
        )
    }

    /// A superuser connection to the trust cluster A (database `postgres`).
    static func superuserOnA(logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            to: PostgresParameters(
                endpoints: [try endpoint(cluster: "A")],
                database: "postgres",
                user: "postgres",
                connectTimeout: TestServers.scaled(.seconds(30))
            ),
            logger: logger
        )
    }

    /// A logger that records debug lines, and the records.
    static func recordingLogger() -> (Logger, InMemoryLogHandler) {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in logs })
        logger.logLevel = .debug
        return (logger, logs)
    }

    /// How many failed attempts a factory logged.
    static func failedAttempts(_ logs: InMemoryLogHandler) -> Int {
        logs.entries.filter { "\($0.message)" == "postgres connection attempt failed" }.count
    }

    static let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A discovery source that forwards to a ``StaticSource`` and runs a hook before each `get` (to change a value between
/// two reads of the same call).
final class HookedSource: DiscoverySource {
    let base: StaticSource
    private let hook: Lock<(@Sendable (Int) -> Void)?>
    private let gets = Atomic<Int>(0)

    init(_ base: StaticSource, hook: (@Sendable (Int) -> Void)? = nil) {
        self.base = base
        self.hook = Lock(hook)
    }

    func get(_ key: String) async throws -> KeyValue? {
        let number = self.gets.add(1, ordering: .relaxed).newValue
        self.hook.withLock { $0 }?(number)
        return await self.base.get(key)
    }

    func list(prefix: String) async throws -> [KeyValue] {
        await self.base.list(prefix: prefix)
    }

    func watch(prefix: String) -> DiscoveryWatch {
        self.base.watch(prefix: prefix)
    }
}
