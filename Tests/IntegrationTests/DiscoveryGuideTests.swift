// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconEtcd
import BeaconExpression
import BeaconMemcached
import Foundation
import Testing

// The examples of Documentation/Discovery.md, as written there (the etcd address and the cache directory are the
// test servers' and a temporary one).

/// The guide's session handler.
private final class MemcachedSessionHandler: Sendable {
    let memcached: DynamicMemcachedPool

    init(_ memcached: DynamicMemcachedPool) {
        self.memcached = memcached
    }
}

/// The guide's service built from a raw value.
private final class DatabaseAddress: Sendable {
    let endpoint: String

    init(_ endpoint: String) {
        self.endpoint = endpoint
    }
}

@Suite("Documentation/Discovery.md", .requiresServers)
struct DiscoveryGuideTests {
    @Test("the story's YAML and a raw value, as the guide writes them")
    func guide() async throws {
        let endpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]))
        defer { etcd.close() }
        let memcached = try TestServers.value("BEACON_MEMCACHED_ENDPOINTS").split(separator: ",").map(String.init)
        // The guide's default locations are shared by every test run: take them over for this test.
        _ = try await etcd.delete(prefix: "/memcached/servers/")
        _ = try await etcd.put("/memcached/servers/a", memcached[0])
        _ = try await etcd.put("/db/main/endpoint", "127.0.0.1:5432")
        let directory = NSTemporaryDirectory() + "beacon-guide-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let servicesFile = directory + "/services.yaml"
        try """
        services:
            session.handler.memcache:
                class: MemcachedSessionHandler
                arguments: ["@=service('myapp.dynamic.configuration').getMemcached()"]
            myapp.dynamic.configuration:
                class: DynamicConfigurationService
                arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]
            app.database.address:
                class: DatabaseAddress
                arguments: ["@=service('myapp.dynamic.configuration').endpoint('/db/main/endpoint')"]
        """.write(toFile: servicesFile, atomically: true, encoding: .utf8)

        var builder = ContainerBuilder()
        builder.setParameter("discovery_service_endpoint", .string("etcd://" + endpoint.dropFirst("http://".count)))
        builder.setParameter("kernel.cache_dir", .string(directory))
        builder.registerDiscoveryService(named: "DynamicConfigurationService")
        builder.registerFactory("MemcachedSessionHandler") { arguments in
            MemcachedSessionHandler(try arguments.service(0, as: DynamicMemcachedPool.self))
        }
        builder.registerFactory("DatabaseAddress") { arguments in DatabaseAddress(try arguments.string(0)) }
        try builder.loadYAML(file: servicesFile)
        let container = try builder.build()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await container.run() }
            defer { group.cancelAll() }
            let handler = try await container.get("session.handler.memcache", as: MemcachedSessionHandler.self)
            #expect(handler.memcached.currentPool?.servers.map(\.description) == [memcached[0]])

            let address = try await container.get("app.database.address", as: DatabaseAddress.self)
            #expect(address.endpoint == "127.0.0.1:5432")
            _ = try await etcd.put("/db/main/endpoint", "127.0.0.1:5433")
            let deadline = ContinuousClock.now + .seconds(30)
            while try await container.get("app.database.address", as: DatabaseAddress.self) === address,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(
                try await container.get("app.database.address", as: DatabaseAddress.self).endpoint == "127.0.0.1:5433"
            )
        }
        _ = try await etcd.delete(prefix: "/memcached/servers/")
        _ = try await etcd.delete("/db/main/endpoint")
        // The last good values persisted in the cache directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count > 1)
    }
}
