// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import BeaconRegister
import BeaconTesting
import Foundation
import Logging
import LoopbackServer
import ServiceLifecycle
import Testing
import UnixSignals

/// The example of Documentation/Register.md, as written there, against the plain etcd of `scripts/servers`: its key
/// under a prefix of its own, a test server in place of Apache, and the group's graceful shutdown triggered by the test
/// instead of SIGTERM.
@Suite("Documentation/Register.md example against etcd", .requiresServers, .timeLimit(.minutes(1)))
struct RegisterGuideTests {
    @Test("in code: the key is there while the server answers, and gone after the group's graceful shutdown")
    func inCode() async throws {
        let apache = try LoopbackHTTPServer()
        defer { apache.stop() }
        let key = "/beacon-register-tests/\(UUID().uuidString)/test/apache-8001"
        let endpoints = [try TestServers.value("BEACON_ETCD_ENDPOINT")]
        let observer = try EtcdClient(configuration: .init(endpoints: endpoints))
        defer { observer.close() }

        let logger = Logger(label: "sidecar", factory: { _ in SwiftLogNoOpLogHandler() })
        let etcd = try EtcdClient(configuration: .init(endpoints: endpoints), logger: logger)
        var configuration = RegistrationWatchdog.Configuration()
        configuration.interval = .seconds(2)
        configuration.ttl = .seconds(5)
        let watchdog = RegistrationWatchdog(
            check: .http(apache.url("/")),
            target: .key(key, value: "127.0.0.1:8001", in: etcd),
            configuration: configuration,
            logger: logger
        )
        // The watchdog last: on SIGTERM it stops first, and withdraws while the etcd client still runs.
        let group = ServiceGroup(
            services: [etcd, watchdog],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await eventually { try await observer.get(key)?.string == "127.0.0.1:8001" })
            #expect(watchdog.check.description == "GET \(apache.url("/"))")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await observer.get(key) == nil)
    }

    @Test("a group: eight instances on one lease, gone at once after cancel()")
    func group() async throws {
        var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
        configuration.servicePrefix = "/beacon-register-tests/\(UUID().uuidString)"
        let etcd = try EtcdClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await etcd.run() }

            // Eight Apache workers behind one supervisor, announced on one lease.
            let workers = (8001...8008).map { port in
                ServiceInstance(
                    service: "apache",
                    id: "apache-\(port)",
                    endpoint: Endpoint(host: "127.0.0.1", port: port)
                )
            }
            // The guide's 10 s, stretched under a sanitizer like the tests' other leases: a process that slow can
            // stall past a 10 s lease between the registration and the reads below.
            let registration = try await etcd.register(group: workers, ttl: TestServers.scaled(.seconds(10)))
            // ... serve; the etcd client's run(), in the same ServiceGroup, renews the one lease every third of the TTL.
            #expect(try await etcd.instances(of: "apache") == workers)
            var leases: Set<Int64?> = []
            for worker in workers {
                leases.insert(try await etcd.leaseID(ofKey: worker.key(prefix: configuration.servicePrefix)))
            }
            #expect(leases.count == 1 && leases.first != nil)
            await registration.cancel()  // one revoke: the eight keys go at once

            #expect(try await etcd.instances(of: "apache").isEmpty)
            tasks.cancelAll()
        }
    }
}
