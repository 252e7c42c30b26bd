// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

/// The examples of Documentation/GettingStarted.md, run as written.
@Suite("Getting started guide", .timeLimit(.minutes(1)))
struct GettingStartedTests {
    static let services = """
        db:
          main:
            endpoint: 127.0.0.1:5432
        memcached:
          servers:
            - 127.0.0.1:11211
            - 127.0.0.1:11212
        """

    @Test("read a key, list a prefix, follow changes")
    func fileSource() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-guide-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("services.yaml").path
        try Self.services.write(toFile: path, atomically: true, encoding: .utf8)

        // Step 3
        let source = try FileSource(path: path)
        let entry = try await source.require("/db/main/endpoint")
        let database = try entry.endpoint(defaultPort: 5432)
        #expect(database.host == "127.0.0.1" && database.port == 5432)
        let error = #expect(throws: BeaconError.self) {
            try KeyValue(key: "/db/main/endpoint", string: "db:54x").endpoint()
        }
        #expect(error?.description == #"invalid value "db:54x" at key "/db/main/endpoint": port "54x" is not a number"#)
        await #expect(throws: BeaconError.self) { try await source.require("/db/missing") }

        // Step 4
        let servers = try await source.list(prefix: "/memcached/servers/").map { try $0.endpoint(defaultPort: 11211) }
        #expect(servers.map(\.description) == ["127.0.0.1:11211", "127.0.0.1:11212"])

        // Step 5
        for try await snapshot in source.watch(prefix: "/memcached/servers/") {
            let servers = try snapshot.map { try $0.endpoint(defaultPort: 11211) }
            #expect(servers.count == 2)
            break
        }
    }

    @Test("other in-process sources and registration")
    func otherSources() async throws {
        let source = StaticSource(["/db/main/endpoint": "10.0.0.5:5432"])
        source.set("/memcached/servers/0", to: "10.0.0.11:11211")
        #expect(await source.list(prefix: "/").count == 2)

        let environment = EnvironmentSource(environment: ["DB_MAIN_ENDPOINT": "10.0.0.5:5432"])
        let endpoint = try await environment.require("/db/main/endpoint").endpoint()
        #expect(endpoint == Endpoint(host: "10.0.0.5", port: 5432))

        let registry = StaticSource()
        let me = ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "10.0.0.7", port: 8080))
        try await registry.withRegistration(me, ttl: .seconds(10)) { _ in
            let peers = try await registry.instances(of: "web")
            #expect(peers.map(\.id) == ["web-1"])
        }
        #expect(try await registry.instances(of: "web").isEmpty)

        _ = try await registry.register(me, ttl: .seconds(10))
        let web = DiscoveryLocation.service("web")
        for try await snapshot in registry.watch(web) {
            let endpoints = try web.endpoints(in: snapshot, defaultPort: nil)
            #expect(endpoints == [Endpoint(host: "10.0.0.7", port: 8080)])
            break
        }
        let refused = await #expect(throws: BeaconError.self) { try await environment.snapshot(of: web) }
        #expect(refused?.code == .unsupportedLocation)
    }
}
