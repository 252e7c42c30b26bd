// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// The examples of Documentation/Consul.md, as written there, against the fake Consul agent of `scripts/servers`
/// (with ACLs, so that the token of the example is used; under a service name of their own).
@Suite("Documentation/Consul.md examples against the fake agent", .requiresServers, .timeLimit(.minutes(1)))
struct ConsulGuideTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("the introduction: put, require an endpoint, watch a service's instances")
    func introduction() async throws {
        let agent = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let aclToken = try TestServers.value("BEACON_CONSUL_ACL_TOKEN")
        let logger = self.logger
        let service = "guide-memcached-\(UUID().uuidString.prefix(8))"
        let registrar = try ConsulClient(configuration: .init(agents: [agent], token: .init(aclToken)))
        let memcached = ServiceInstance(service: service, id: "a", endpoint: Endpoint(host: "10.0.0.11", port: 11211))
        let registration = try await registrar.register(memcached, ttl: TestServers.scaled(.seconds(15)))

        let consul = try ConsulClient(
            configuration: .init(agents: [agent], token: .init(aclToken)),
            logger: logger
        )

        try await consul.put("/db/main/endpoint", "10.0.0.5:5432")
        let database = try await consul.require("/db/main/endpoint").endpoint(defaultPort: 5432)
        #expect(database == Endpoint(host: "10.0.0.5", port: 5432))

        for try await instances in consul.watchInstances(of: service) {
            #expect(instances.map(\.endpoint) == [Endpoint(host: "10.0.0.11", port: 11211)])
            break
        }
        try await consul.delete("/db/main/endpoint")
        consul.close()
        await registration.cancel()
        registrar.close()
    }

    @Test("registration: register, cancel, and run() in a service group")
    func registration() async throws {
        // On the agent with ACLs: the example's id "web-1" is used by no other test there (an agent keys its services
        // by id alone).
        let consul = try ConsulClient(
            configuration: .init(
                agents: [try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")],
                token: .init(try TestServers.value("BEACON_CONSUL_ACL_TOKEN"))
            )
        )
        let service = "guide-web-\(UUID().uuidString.prefix(8))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consul.run() }
            let registration = try await consul.register(
                ServiceInstance(service: service, id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080)),
                ttl: TestServers.scaled(.seconds(15))
            )
            #expect(try await consul.instances(of: service).map(\.id) == ["web-1"])
            await registration.cancel()  // deregistered at once
            #expect(try await consul.instances(of: service).isEmpty)
            group.cancelAll()
        }
    }

    @Test("keys: Beacon's /db/main/endpoint is Consul's db/main/endpoint; folders are left out")
    func keys() async throws {
        let consul = try ConsulClient(configuration: .init(agents: [try TestServers.value("BEACON_CONSUL_ENDPOINT")]))
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("consul-guide")
        try await consul.put("\(prefix)db/main/endpoint", "10.0.0.5:5432")
        try await consul.put("\(prefix)folder/", "")
        let entries = try await consul.list(prefix: prefix)
        #expect(entries.map(\.key) == ["\(prefix)db/main/endpoint"])
        let read = try await consul.read("\(prefix)db/main/endpoint")
        #expect(read.meta.knownLeader && read.meta.index > 0)
        try await consul.delete(prefix: prefix)
    }

    @Test("threading: two Consul clients share one HTTPIOThread")
    func sharingAnIOThread() async throws {
        let agent = try TestServers.value("BEACON_CONSUL_ENDPOINT")
        let prefix = TestServers.uniquePrefix("consul-guide-io-thread")

        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }  // runs last: after the clients' close()

        let local = try ConsulClient(configuration: .init(agents: [agent], ioThread: ioThread))
        defer { local.close() }
        let remote = try ConsulClient(configuration: .init(agents: [agent], datacenter: "dc1", ioThread: ioThread))
        defer { remote.close() }

        try await local.put("\(prefix)db/main/endpoint", "10.0.0.5:5432")
        #expect(try await remote.get("\(prefix)db/main/endpoint")?.string == "10.0.0.5:5432")
        #expect(ioThread.runningThreadCount == 1)
        try await local.delete(prefix: prefix)
    }
}
