// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconLocks
import BeaconTesting
import Testing

/// A registry (over a `StaticSource`) whose instance lists fail on demand, and count.
final class FlakyRegistry: DiscoverySource, ServiceRegistry {
    let base = StaticSource()
    private let state = Lock((failing: false, reads: 0))

    var reads: Int { self.state.withLock { $0.reads } }

    func fail(_ failing: Bool) { self.state.withLock { $0.failing = failing } }

    func get(_ key: String) async throws -> KeyValue? { await self.base.get(key) }
    func list(prefix: String) async throws -> [KeyValue] { await self.base.list(prefix: prefix) }
    func watch(prefix: String) -> DiscoveryWatch { self.base.watch(prefix: prefix) }

    func instances(of service: String) async throws -> [ServiceInstance] {
        let failing = self.state.withLock { state in
            state.reads += 1
            return state.failing
        }
        if failing { throw BeaconError(.unavailable, "the registry cannot be reached") }
        return try await self.base.instances(of: service)
    }

    func watchInstances(of service: String) -> ServiceInstanceWatch { self.base.watchInstances(of: service) }

    func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try await self.base.register(instance, ttl: ttl)
    }
}

@Suite("CachingSource in front of a registry", .timeLimit(.minutes(1)))
struct CachingSourceServiceTests {
    static func web(_ id: String) -> ServiceInstance {
        ServiceInstance(service: "web", id: id, endpoint: Endpoint(host: "10.0.0.1", port: 8080))
    }

    @Test("a service's instances are cached as a prefix is: fresh for the TTL, served stale while the registry fails")
    func cachedInstances() async throws {
        let registry = FlakyRegistry()
        _ = try await registry.register(Self.web("w1"), ttl: .seconds(10))
        let clock = ManualClock()
        let configuration = TTLCacheConfiguration(ttl: .seconds(5), jitter: 0)
        let cache = CachingSource(
            base: registry,
            keys: TTLCache(name: "keys", configuration: configuration, clock: clock),
            prefixes: TTLCache(name: "prefixes", configuration: configuration, clock: clock)
        )
        #expect(try await cache.snapshot(of: .service("web")).map(\.key) == ["/services/web/w1"])
        _ = try await registry.register(Self.web("w2"), ttl: .seconds(10))
        #expect(try await cache.snapshot(of: .service("web")).count == 1)
        #expect(registry.reads == 1)

        clock.advance(by: .seconds(5))
        #expect(try await cache.snapshot(of: .service("web")).count == 2)
        #expect(registry.reads == 2)

        registry.fail(true)
        clock.advance(by: .seconds(30))
        let stale = try await cache.snapshot(of: .service("web"))
        #expect(stale.prefix == "/services/web/" && stale.count == 2)
        #expect(registry.reads == 3)
        // The cache keeps the service apart from the keys of the same name.
        #expect(try await cache.list(prefix: "/services/web/").count == 2)
    }

    @Test("a watch of a service through the cache stores each list, so that reads after it are fresh")
    func watchStores() async throws {
        let registry = FlakyRegistry()
        _ = try await registry.register(Self.web("w1"), ttl: .seconds(10))
        let cache = CachingSource(registry)
        var watch = cache.watch(.service("web")).makeAsyncIterator()
        #expect(try await watch.next()?.count == 1)
        _ = try await registry.register(Self.web("w2"), ttl: .seconds(10))
        #expect(try await watch.next()?.count == 2)
        registry.fail(true)
        #expect(try await cache.snapshot(of: .service("web")).count == 2)
        #expect(registry.reads == 0)
    }
}
