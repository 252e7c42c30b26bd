// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconDiscovery
import BeaconExpression
import BeaconLocks
import BeaconMemcached
import BeaconTesting

/// The story's session handler: it holds the memcached client it was given.
final class MemcachedSessionHandler: Sendable {
    let memcached: DynamicMemcachedPool

    init(_ memcached: DynamicMemcachedPool) {
        self.memcached = memcached
    }
}

/// A service built from one raw discovered value.
final class DatabaseEndpoint: Sendable {
    let endpoint: String

    init(_ endpoint: String) {
        self.endpoint = endpoint
    }
}

/// Counts things across tasks.
final class Counter: Sendable {
    private let count = Lock(0)

    @discardableResult
    func increment() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }

    var value: Int { count.withLock { $0 } }
}

/// The story's YAML, with only the class names changed.
let storyServicesYAML = """
    services:
        session.handler.memcache:
            class: MemcachedSessionHandler
            arguments: ["@=service('myapp.dynamic.configuration').getMemcached()"]
        myapp.dynamic.configuration:
            class: DynamicConfigurationService
            arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]
    """

/// A builder with the story's factories, the discovery service over `source` when given.
func storyBuilder(
    url: String,
    cacheDirectory: String,
    source: (any DiscoverySource)?,
    constructions: Counter = Counter()
) throws -> ContainerBuilder {
    var builder = ContainerBuilder()
    builder.setParameter("discovery_service_endpoint", .string(url))
    builder.setParameter("kernel.cache_dir", .string(cacheDirectory))
    builder.registerDiscoveryService(named: "DynamicConfigurationService", source: source)
    builder.registerFactory("MemcachedSessionHandler") { arguments in
        MemcachedSessionHandler(try arguments.service(0, as: DynamicMemcachedPool.self))
    }
    builder.registerFactory("DatabaseEndpoint") { arguments in
        constructions.increment()
        return DatabaseEndpoint(try arguments.string(0))
    }
    return builder
}

/// Runs `body` while the container runs (and with it the discovery service it built), then stops it.
func withRunningContainer<R: Sendable>(
    _ container: Container,
    _ body: () async throws -> R
) async throws -> R {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await container.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}
