// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConfiguration
import BeaconEtcd
import BeaconLocks
import BeaconTesting
import Configuration
import InMemoryLogging
import Logging
import Testing

/// The last value a watch received.
private final class Latest<Value: Sendable>: Sendable {
    private let value = Lock<Value?>(nil)
    var current: Value? { self.value.withLock { $0 } }
    func set(_ value: Value) { self.value.withLock { $0 = value } }
}

/// `DiscoveryConfigProvider` over a real etcd: the shared one of `scripts/servers`, and a private one it stops.
@Suite("DiscoveryConfigProvider over etcd", .requiresServers, .timeLimit(.minutes(2)))
struct ConfigProviderEtcdTests {
    @Test("an int key and a bool key watched through a ConfigReader: each watcher receives the new typed value")
    func typedWatchers() async throws {
        let etcd = try EtcdClientTests.client()
        defer { etcd.close() }
        let prefix = TestServers.uniquePrefix("config-watch")
        try await etcd.put("\(prefix)http/workers", "4")
        try await etcd.put("\(prefix)features/debug", "false")
        let provider = DiscoveryConfigProvider(source: etcd, configuration: .init(prefix: prefix))
        let config = ConfigReader(provider: provider)
        let workers = Latest<Int>()
        let debug = Latest<Bool>()
        try await withThrowingTaskGroup(of: Void.self) { group throws in
            group.addTask { await provider.run() }
            try await provider.waitUntilReady()
            group.addTask {
                try await config.watchInt(forKey: "http.workers", default: 1) { updates in
                    for await value in updates { workers.set(value) }
                }
            }
            group.addTask {
                try await config.watchBool(forKey: "features.debug", default: true) { updates in
                    for await value in updates { debug.set(value) }
                }
            }
            #expect(try await eventually { workers.current == 4 && debug.current == false })
            try await etcd.put("\(prefix)http/workers", "8")
            #expect(try await eventually { workers.current == 8 })
            try await etcd.put("\(prefix)features/debug", "true")
            #expect(try await eventually { debug.current == true })
            #expect(workers.current == 8)
            #expect(config.int(forKey: "http.workers") == 8)
            group.cancelAll()
        }
        try await etcd.delete(prefix: prefix)
    }

    @Test("etcd stopped: reads answer from the last snapshot, and a key Beacon lacks falls through to the environment")
    func etcdStopped() async throws {
        let server = try await EtcdPrivateServer.start()
        defer { server.stop() }
        var configuration = EtcdClient.Configuration(endpoints: [server.endpoint])
        configuration.connectTimeout = .milliseconds(500)
        configuration.requestTimeout = .seconds(2)
        let etcd = try EtcdClient(configuration: configuration)
        defer { etcd.close() }
        try await etcd.put("/config/http/port", "8080")
        try await etcd.put("/config/http/host", "0.0.0.0")

        let logs = InMemoryLogHandler()
        let beacon = DiscoveryConfigProvider(source: etcd, logger: Logger(label: "test", factory: { _ in logs }))
        let environment = EnvironmentVariablesProvider(environmentVariables: [
            "HTTP_PORT": "1", "HTTP_TIMEOUT": "30",
        ])
        let config = ConfigReader(providers: [beacon, environment])
        try await withThrowingTaskGroup(of: Void.self) { group throws in
            group.addTask { await beacon.run() }
            try await beacon.waitUntilReady()
            #expect(config.int(forKey: "http.port") == 8080)
            #expect(try await config.fetchInt(forKey: "http.port") == 8080)
            #expect(logs.entries.isEmpty)

            server.stop()
            #expect(config.int(forKey: "http.port") == 8080)
            #expect(config.string(forKey: "http.host") == "0.0.0.0")
            #expect(config.int(forKey: "http.timeout") == 30)
            // fetch tries etcd, fails, and answers from the last snapshot (or falls through): no error.
            #expect(try await config.fetchInt(forKey: "http.port") == 8080)
            #expect(try await config.fetchInt(forKey: "http.timeout") == 30)
            #expect(try await config.fetchString(forKey: "http.host") == "0.0.0.0")
            #expect(logs.entries.filter { $0.level == .warning }.count == 1)
            group.cancelAll()
        }
    }
}
