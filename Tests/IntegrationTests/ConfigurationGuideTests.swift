// SPDX-License-Identifier: Apache-2.0

import BeaconConfiguration
import BeaconEtcd
import BeaconLocks
import BeaconTesting
import Configuration
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

/// What the guide's watch prints, collected.
private final class Collected: Sendable {
    private let storage = Lock<[Int]>([])
    var values: [Int] { self.storage.withLock { $0 } }
    func append(_ value: Int) { self.storage.withLock { $0.append(value) } }
}

/// The examples of Documentation/Configuration.md, as written there, against the plain etcd of `scripts/servers` (the
/// etcd address is the test server's, and the prefix one of the test's own instead of `/config/checkout/`).
@Suite("Documentation/Configuration.md examples against etcd", .requiresServers, .timeLimit(.minutes(1)))
struct ConfigurationGuideTests {
    @Test("a ConfigReader with the Beacon provider over etcd above the environment, run in a ServiceGroup")
    func guide() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let endpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let prefix = TestServers.uniquePrefix("guide-config")
        let setup = try EtcdClient(configuration: .init(endpoints: [endpoint]))
        defer { setup.close() }
        try await setup.put("\(prefix)http/port", "8443")
        try await setup.put("\(prefix)db/password", "s3cret")

        // The guide's code.
        let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]), logger: logger)
        let beacon = DiscoveryConfigProvider(
            source: etcd,
            configuration: .init(prefix: prefix, secretKeys: ["db.password"]),
            logger: logger
        )
        let config = ConfigReader(providers: [beacon, EnvironmentVariablesProvider()])

        try await beacon.load()  // read the prefix once, so that start-up code sees etcd's values
        let port = config.int(forKey: "http.port", default: 8080)  // /config/checkout/http/port, else HTTP_PORT
        let password = config.string(forKey: "db.password")  // marked secret: access logs redact it

        let group = ServiceGroup(services: [etcd, beacon], gracefulShutdownSignals: [.sigterm], logger: logger)
        // End of the guide's first example (its `try await group.run()` runs below, beside the watch).

        #expect(port == 8443)
        #expect(password == "s3cret")
        #expect(try beacon.value(forKey: ["db", "password"], type: .string).value?.isSecret == true)
        #expect(config.int(forKey: "http.timeout", default: 30) == 30)

        let seen = Collected()
        try await withThrowingTaskGroup(of: Void.self) { tasks throws in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                // The guide's second example (collecting instead of printing).
                try await config.watchInt(forKey: "http.workers", default: 4) { updates in
                    for await workers in updates {
                        seen.append(workers)
                    }
                }
            }
            #expect(try await eventually { seen.values == [4] })
            try await setup.put("\(prefix)http/workers", "6")
            #expect(try await eventually { seen.values == [4, 6] })
            // Graceful shutdown ends beacon.run() and etcd.run(), then the group's run(). The reader's watch combines
            // both providers' watches, and the environment's lasts until its task is cancelled.
            await group.triggerGracefulShutdown()
            try await tasks.next()
            // beacon.run() has ended: a watch of the provider itself ends at once.
            try await beacon.watchValue(forKey: ["http", "port"], type: .int) { updates in
                for await _ in updates {}
            }
            tasks.cancelAll()
        }
        try await setup.delete(prefix: prefix)
    }
}
