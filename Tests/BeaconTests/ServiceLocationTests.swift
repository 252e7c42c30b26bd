// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import BeaconTesting
import Testing

/// A registry that keeps its instances out of its key-value store, as Consul keeps them in its catalog: reading
/// `/services/<name>/` from it finds nothing, so only a consumer that asks it as a registry finds the instances.
final class CatalogRegistry: DiscoverySource, ServiceRegistry {
    private let catalog = Lock<[String: [ServiceInstance]]>([:])
    private let changes = ChangeSignal()

    func get(_ key: String) async throws -> KeyValue? { nil }
    func list(prefix: String) async throws -> [KeyValue] { [] }
    func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch {
            var first = true
            return {
                if first {
                    first = false
                    return DiscoverySnapshot(prefix: prefix, entries: [])
                }
                try await Task.sleep(for: .seconds(3600))
                return nil
            }
        }
    }

    func instances(of service: String) async throws -> [ServiceInstance] {
        self.catalog.withLock { $0[service] ?? [] }.sorted { $0.id < $1.id }
    }

    func watchInstances(of service: String) -> ServiceInstanceWatch {
        ServiceInstanceWatch { [self] in
            var seen: UInt64?
            return {
                if let generation = seen {
                    await self.changes.wait(after: generation)
                    if Task.isCancelled { return nil }
                }
                seen = self.changes.generation
                return try await self.instances(of: service)
            }
        }
    }

    func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        self.catalog.withLock { $0[instance.service, default: []].append(instance) }
        self.changes.signal()
        return ServiceRegistration(instance: instance) { [self] in
            self.catalog.withLock { $0[instance.service]?.removeAll { $0.id == instance.id } }
            self.changes.signal()
        }
    }
}

@Suite("DiscoveryLocation.service: read and followed through any registry", .timeLimit(.minutes(1)))
struct ServiceLocationTests {
    static func instance(_ id: String, port: Int, zone: String = "a") -> ServiceInstance {
        ServiceInstance(
            service: "memcached",
            id: id,
            endpoint: Endpoint(host: "10.0.0.\(port % 100)", port: port),
            metadata: ["zone": zone]
        )
    }

    @Test("a service answers its own accessor; its snapshots sit under /services/<name>/")
    func accessors() {
        let service = DiscoveryLocation.service("memcached")
        #expect(service.service == "memcached")
        #expect(service.key == nil && service.prefix == nil && service.patroni == nil)
        #expect(service.watchPrefix == "/services/memcached/")
        #expect(service.description == "service memcached")
        #expect(DiscoveryLocation.key("/a").service == nil)
        #expect(service != .prefix("/services/memcached/"))
        #expect(Set([service, .service("memcached"), .service("web")]).count == 2)
    }

    @Test("endpoints(in:) reads each instance's endpoint, in identifier order; a bad entry names its key")
    func endpointsInSnapshot() throws {
        let snapshot = DiscoverySnapshot(
            prefix: "/services/memcached/",
            entries: [
                KeyValue(key: "/services/memcached/b", value: Self.instance("b", port: 11212).encodedValue()),
                KeyValue(key: "/services/memcached/a", value: Self.instance("a", port: 11211).encodedValue()),
                KeyValue(key: "/services/other/c", value: Self.instance("c", port: 11213).encodedValue()),
            ]
        )
        let endpoints = try DiscoveryLocation.service("memcached").endpoints(in: snapshot, defaultPort: 11211)
        #expect(endpoints.map(\.description) == ["10.0.0.11:11211", "10.0.0.12:11212"])

        let bad = DiscoverySnapshot(
            prefix: "/services/memcached/",
            entries: [KeyValue(key: "/services/memcached/x", string: "10.0.0.1:11211")]
        )
        let error = #expect(throws: BeaconError.self) {
            try DiscoveryLocation.service("memcached").endpoints(in: bad, defaultPort: nil)
        }
        #expect(error?.code == .invalidValue && error?.key == "/services/memcached/x")
    }

    @Test("snapshot(of:) and watch(_:) on a StaticSource: the registered instances, then each change")
    func staticSource() async throws {
        let source = StaticSource(["/services/memcached-other/a": "not read"])
        let first = try await source.register(Self.instance("m1", port: 11211), ttl: .seconds(10))
        let snapshot = try await source.snapshot(of: .service("memcached"))
        #expect(snapshot.prefix == "/services/memcached/")
        #expect(snapshot.map(\.key) == ["/services/memcached/m1"])
        #expect(try ServiceInstance(decoding: snapshot[0]) == Self.instance("m1", port: 11211))

        var watch = source.watch(.service("memcached")).makeAsyncIterator()
        #expect(try await watch.next()?.map(\.key) == ["/services/memcached/m1"])
        let second = try await source.register(Self.instance("m2", port: 11212), ttl: .seconds(10))
        #expect(try await watch.next()?.map(\.key) == ["/services/memcached/m1", "/services/memcached/m2"])
        await first.cancel()
        #expect(try await watch.next()?.map(\.key) == ["/services/memcached/m2"])
        await second.cancel()
        #expect(try await watch.next()?.isEmpty == true)
    }

    @Test("a registry that keeps its instances out of its KV store is asked as a registry, not read as a prefix")
    func catalogRegistry() async throws {
        let registry = CatalogRegistry()
        #expect(try await registry.snapshot(prefix: "/services/memcached/").isEmpty)
        var watch = registry.watch(.service("memcached")).makeAsyncIterator()
        #expect(try await watch.next()?.isEmpty == true)
        let registration = try await registry.register(Self.instance("m1", port: 11211, zone: "b"), ttl: .seconds(5))
        let snapshot = try #require(try await watch.next())
        #expect(try ServiceInstance(decoding: snapshot[0]).metadata == ["zone": "b"])
        #expect(
            try DiscoveryLocation.service("memcached").endpoints(in: snapshot, defaultPort: nil).map(\.description)
                == ["10.0.0.11:11211"]
        )
        #expect(try await registry.snapshot(of: .service("memcached")).count == 1)
        await registration.cancel()
        #expect(try await watch.next()?.isEmpty == true)
    }

    @Test("a source that is not a registry refuses a service with an error that says so; other kinds still read")
    func notARegistry() async throws {
        let source = EnvironmentSource(environment: ["DB_MAIN": "10.0.0.5:5432"])
        let error = await #expect(throws: BeaconError.self) { try await source.snapshot(of: .service("memcached")) }
        #expect(error?.code == .unsupportedLocation)
        #expect(error?.message.hasPrefix("the source is not a service registry: EnvironmentSource") == true)
        #expect(error?.text == "service memcached")
        var watch = source.watch(.service("memcached")).makeAsyncIterator()
        let watchError = await #expect(throws: BeaconError.self) { try await watch.next() }
        #expect(watchError?.code == .unsupportedLocation)
        #expect(try await source.snapshot(of: .key("/db/main")).first?.string == "10.0.0.5:5432")
    }

    @Test("a key's snapshot holds the key alone; a prefix's, everything under it")
    func keysAndPrefixes() async throws {
        let source = StaticSource(["/a": "1", "/ab": "2", "/a/c": "3"])
        #expect(try await source.snapshot(of: .key("/a")).map(\.key) == ["/a"])
        #expect(try await source.snapshot(of: .key("/missing")).isEmpty)
        #expect(try await source.snapshot(of: .prefix("/a/")).map(\.key) == ["/a/c"])
        var watch = source.watch(.prefix("/a/")).makeAsyncIterator()
        #expect(try await watch.next()?.map(\.key) == ["/a/c"])
    }
}
