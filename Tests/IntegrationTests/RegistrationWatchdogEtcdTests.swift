// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconRegister
import BeaconTesting
import Foundation
import Logging
import LoopbackServer
import ServiceLifecycle
import Testing

@testable import BeaconEtcd

/// `RegistrationWatchdog` and `EtcdClient.putEphemeral` against the plain etcd of `scripts/servers`, checking an HTTP
/// server and a TCP port that the test starts itself. Keys live under a prefix of their own.
///
/// TTLs are a minute long, far longer than any wait here: a key that disappears was removed by the watchdog (its lease
/// revoked), not left to expire.
@Suite("RegistrationWatchdog against etcd", .requiresServers, .timeLimit(.minutes(2)))
struct RegistrationWatchdogEtcdTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func prefix() -> String {
        "/beacon-register-tests/\(UUID().uuidString)/"
    }

    static func configuration() -> RegistrationWatchdog.Configuration {
        var configuration = RegistrationWatchdog.Configuration()
        configuration.interval = .milliseconds(100)
        configuration.checkTimeout = .seconds(5)
        configuration.failureThreshold = 2
        configuration.ttl = .seconds(60)
        configuration.retryDelay = .milliseconds(100)
        return configuration
    }

    @Test("putEphemeral: the key is on a lease, cancel() removes it at once, and so does the end of run()")
    func putEphemeral() async throws {
        let prefix = Self.prefix()
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            let first = try await etcd.putEphemeral("\(prefix)first", "127.0.0.1:8001", ttl: .seconds(60))
            _ = try await etcd.putEphemeral("\(prefix)second", "127.0.0.1:8002", ttl: .seconds(60))
            #expect(try await observer.get("\(prefix)first")?.string == "127.0.0.1:8001")
            #expect(try await observer.leaseID(ofKey: "\(prefix)first") != nil)
            await first.cancel()
            #expect(first.isCancelled)
            #expect(try await observer.get("\(prefix)first") == nil)
            #expect(try await observer.get("\(prefix)second")?.string == "127.0.0.1:8002")
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(try await observer.list(prefix: prefix).isEmpty)
        await #expect(throws: BeaconError.self) { try await observer.putEphemeral("", "x", ttl: .seconds(5)) }
    }

    @Test(
        "a plain key with an HTTP check: on a lease while healthy, gone at once after the failures, back on recovery, gone on graceful shutdown"
    )
    func plainKeyHTTP() async throws {
        let prefix = Self.prefix()
        let key = "\(prefix)test/apache-8001"
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let etcd = try EtcdClientTests.client()
        let observer = try EtcdClientTests.client()
        defer { observer.close() }
        let watchdog = RegistrationWatchdog(
            check: .http(server.url()),
            target: .key(key, value: "127.0.0.1:\(server.port)", in: etcd),
            configuration: Self.configuration(),
            logger: self.logger
        )
        let group = ServiceGroup(services: [etcd, watchdog], logger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            #expect(try await eventually { try await observer.get(key)?.string == "127.0.0.1:\(server.port)" })
            #expect(try await observer.leaseID(ofKey: key) != nil)
            #expect(try await eventually { watchdog.state == .registered })

            server.setStatus(503)
            #expect(try await eventually { try await observer.get(key) == nil })
            #expect(try await eventually { watchdog.state == .unhealthy })

            server.setStatus(200)
            #expect(try await eventually { try await observer.get(key) != nil })

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await observer.get(key) == nil)
        #expect(watchdog.state == .stopped)
    }

    @Test("an instance with a TCP check: listed by instances(of:) while the port accepts, gone when it refuses")
    func instanceTCP() async throws {
        let prefix = Self.prefix()
        var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
        configuration.servicePrefix = "\(prefix)services"
        let etcd = try EtcdClient(configuration: configuration)
        let observer = try EtcdClient(configuration: configuration)
        defer { observer.close() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let endpoint = Endpoint(host: "127.0.0.1", port: server.port)
        let instance = ServiceInstance(service: "apache", id: "apache-\(server.port)", endpoint: endpoint)
        let watchdog = RegistrationWatchdog(
            check: .tcp(endpoint),
            target: .instance(instance, in: etcd),
            configuration: Self.configuration(),
            logger: self.logger
        )
        let group = ServiceGroup(services: [etcd, watchdog], logger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await eventually { try await observer.instances(of: "apache") == [instance] })

            server.stop()
            #expect(try await eventually { try await observer.instances(of: "apache").isEmpty })
            #expect(try await eventually { watchdog.state == .unhealthy })

            tasks.cancelAll()
            try await tasks.waitForAll()
        }
        #expect(try await observer.list(prefix: prefix).isEmpty)
    }
}
