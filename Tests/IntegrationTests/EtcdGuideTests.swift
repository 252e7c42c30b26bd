// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconEtcd
import Foundation
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

/// The examples of Documentation/Etcd.md, as written there, against the plain etcd of `scripts/servers` (keys under
/// a prefix of their own).
@Suite("Documentation/Etcd.md examples against etcd", .requiresServers, .timeLimit(.minutes(1)))
struct EtcdGuideTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func client(servicePrefix: String? = nil) throws -> EtcdClient {
        var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
        if let servicePrefix { configuration.servicePrefix = servicePrefix }
        return try EtcdClient(configuration: configuration, logger: self.logger)
    }

    @Test("the introduction: put, require an endpoint, watch registered instances")
    func introduction() async throws {
        let prefix = TestServers.uniquePrefix("guide-intro")
        let etcd = try self.client(servicePrefix: "\(prefix)services")
        defer { etcd.close() }
        // Set-up: an instance to watch, kept alive by run().
        let registrar = try self.client(servicePrefix: "\(prefix)services")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await registrar.run() }
            defer { group.cancelAll() }
            // A lease that outlives a stall of several seconds on a loaded machine (the watch below must find it).
            _ = try await registrar.register(
                ServiceInstance(service: "memcached", id: "a", endpoint: Endpoint(host: "10.0.0.11", port: 11211)),
                ttl: TestServers.scaled(.seconds(30))
            )

            try await etcd.put("\(prefix)db/main/endpoint", "10.0.0.5:5432")
            let database = try await etcd.require("\(prefix)db/main/endpoint").endpoint(defaultPort: 5432)

            var seen: [[Endpoint]] = []
            for try await snapshot in etcd.watch(prefix: "\(prefix)services/memcached/") {
                let servers = try snapshot.map { try ServiceInstance(decoding: $0).endpoint }
                seen.append(servers)
                break  // the guide's loop runs for the life of the app
            }
            #expect(database == Endpoint(host: "10.0.0.5", port: 5432))
            #expect(seen == [[Endpoint(host: "10.0.0.11", port: 11211)]])
        }
        // Ending the registrar's run() withdrew its registration.
        #expect(try await etcd.list(prefix: "\(prefix)services/").isEmpty)
        try await etcd.delete(prefix: prefix)
    }

    @Test("changes instead of snapshots: the guide's loop over change batches")
    func changes() async throws {
        let prefix = TestServers.uniquePrefix("guide-changes")
        let etcd = try self.client()
        defer { etcd.close() }
        try await etcd.put("\(prefix)services/memcached/a", "10.0.0.11:11211")

        // As in the guide, with a prefix of the test's own; the loop stops after three batches.
        var endpoints: [String: Endpoint] = [:]
        var batches = 0
        for try await batch in etcd.changes(prefix: "\(prefix)services/memcached/") {
            if batch.isReset { endpoints = [:] }
            for change in batch.changes {
                endpoints[change.key] = change.kind == .put ? try change.entry.endpoint() : nil
            }
            print("\(endpoints.count) memcached servers at revision \(batch.revision)")
            batches += 1
            if batches == 1 {
                #expect(endpoints == ["\(prefix)services/memcached/a": Endpoint(host: "10.0.0.11", port: 11211)])
                try await etcd.put("\(prefix)services/memcached/b", "10.0.0.12:11211")
            } else if batches == 2 {
                #expect(endpoints.count == 2)
                try await etcd.delete("\(prefix)services/memcached/a")
            } else {
                #expect(endpoints == ["\(prefix)services/memcached/b": Endpoint(host: "10.0.0.12", port: 11211)])
                break
            }
        }
        #expect(batches == 3)
        try await etcd.delete(prefix: prefix)
    }

    @Test("registration and leases: the client runs in a ServiceGroup, whose graceful shutdown withdraws the instance")
    func registration() async throws {
        let prefix = TestServers.uniquePrefix("guide-registration")
        let endpoints = [try TestServers.value("BEACON_ETCD_ENDPOINT")]
        let logger = self.logger
        let observer = try self.client(servicePrefix: "\(prefix)services")
        defer { observer.close() }
        var configuration = EtcdClient.Configuration(endpoints: endpoints)
        configuration.servicePrefix = "\(prefix)services"

        // As in the guide, with a service prefix of the test's own.
        let etcd = try EtcdClient(configuration: configuration, logger: logger)
        let web = ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        _ = try await etcd.register(web, ttl: TestServers.scaled(.seconds(10)))  // kept alive while etcd.run() runs
        let group = ServiceGroup(services: [etcd], gracefulShutdownSignals: [.sigterm], logger: logger)
        // The group leaves SIGTERM ignored; give it back its default action.
        defer { signal(SIGTERM, SIG_DFL) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await observer.instances(of: "web") == [web])
            await group.triggerGracefulShutdown()  // as SIGTERM does
            try await tasks.waitForAll()
        }
        #expect(try await observer.instances(of: "web").isEmpty)
    }

    @Test("running on the client's I/O thread: reading keys on its task executor")
    func taskExecutor() async throws {
        let prefix = TestServers.uniquePrefix("guide-executor")
        let etcd = try self.client()
        defer { etcd.close() }
        try await etcd.put("\(prefix)db/main/endpoint", "10.0.0.5:5432")
        try await etcd.put("\(prefix)cache/main/endpoint", "10.0.0.11:11211")

        let keys = ["\(prefix)db/main/endpoint", "\(prefix)db/replica/endpoint", "\(prefix)cache/main/endpoint"]
        let endpoints = try await withTaskExecutorPreference(etcd.taskExecutor) {
            var endpoints: [Endpoint] = []
            for key in keys {
                if let entry = try await etcd.get(key) {
                    endpoints.append(try entry.endpoint())
                }
            }
            return endpoints
        }
        #expect(endpoints == [Endpoint(host: "10.0.0.5", port: 5432), Endpoint(host: "10.0.0.11", port: 11211)])
        try await etcd.delete(prefix: prefix)
    }

    @Test("sharing one I/O thread between clients: two etcd clients and a Consul client on one HTTPIOThread")
    func sharingAnIOThread() async throws {
        let endpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let agent = try TestServers.value("BEACON_CONSUL_ENDPOINT")
        let prefix = TestServers.uniquePrefix("guide-io-thread")

        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }  // runs last: after the clients' close()

        var configuration = EtcdClient.Configuration(endpoints: [endpoint])
        configuration.ioThread = ioThread
        let orders = try EtcdClient(configuration: configuration, logger: self.logger)
        defer { orders.close() }
        configuration.endpoints = [endpoint]
        let billing = try EtcdClient(configuration: configuration, logger: self.logger)
        defer { billing.close() }
        let consul = try ConsulClient(configuration: .init(agents: [agent], ioThread: ioThread))
        defer { consul.close() }

        try await orders.put("\(prefix)db/main/endpoint", "10.0.0.5:5432")
        #expect(try await billing.get("\(prefix)db/main/endpoint")?.string == "10.0.0.5:5432")
        try await consul.put("\(prefix)db/main/endpoint", "10.0.0.6:5432")
        #expect(try await consul.get("\(prefix)db/main/endpoint")?.string == "10.0.0.6:5432")
        #expect(ioThread.runningThreadCount == 1)
        #expect(try await orders.delete(prefix: prefix) == 1)
        try await consul.delete(prefix: prefix)
    }
}
