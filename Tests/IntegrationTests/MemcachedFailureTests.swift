// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging
import Testing

/// Adding and losing servers, with test-private memcached instances (ports 21298 and 21299) beside the shared
/// ones; only the private instances are stopped.
@Suite("MemcachedPool when servers come and go", .serialized, .requiresServers, .timeLimit(.minutes(1)))
struct MemcachedFailureTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func shared() throws -> [Endpoint] {
        try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
    }

    @Test("adding a fourth server remaps close to a quarter of the keys")
    func fourthServer() async throws {
        let fourth = try MemcachedPrivateServer(port: 21299)
        defer { fourth.stop() }
        let three = try Self.shared()
        let before = try MemcachedPool(servers: three, logger: Self.logger)
        let after = try MemcachedPool(servers: three + [fourth.endpoint], logger: Self.logger)
        defer {
            before.close()
            after.close()
        }
        let prefix = "beacon-tests:remap:\(UUID().uuidString)"
        let keys = (0..<2000).map { "\(prefix):\($0)" }
        try before.withBlockingConnection { connection in
            for key in keys { try connection.set(key, value: Array(key.utf8), expiration: .seconds(120)) }
        }
        // Read through the four-server pool: the keys that moved are on the new (empty) server.
        let found = try after.withBlockingConnection { connection in
            try stride(from: 0, to: keys.count, by: 100).reduce(0) { count, start in
                count + (try connection.getMulti(Array(keys[start..<start + 100])).count)
            }
        }
        let missing = keys.count - found
        let fraction = Double(missing) / Double(keys.count)
        #expect(fraction > 0.17 && fraction < 0.33, "\(missing) of \(keys.count) keys moved")
        for key in keys.prefix(200) where try after.server(forKey: key) != before.server(forKey: key) {
            #expect(try after.server(forKey: key) == fourth.endpoint)
        }
    }

    @Test("a stopped server's keys fail fast, naming it; the other servers are unaffected")
    func failFast() throws {
        let victim = try MemcachedPrivateServer(port: 21298)
        let servers = try Self.shared() + [victim.endpoint]
        let pool = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(
                connectTimeout: .milliseconds(200),
                failureLimit: 1,
                retryTimeout: .seconds(30),
                maxConnections: 1
            ),
            logger: Self.logger
        )
        defer { pool.close() }
        let prefix = "beacon-tests:fail-fast:\(UUID().uuidString)"
        let keys = (0..<200).map { "\(prefix):\($0)" }
        let victimKeys = try keys.filter { try pool.server(forKey: $0) == victim.endpoint }
        let otherKeys = try keys.filter { try pool.server(forKey: $0) != victim.endpoint }
        #expect(!victimKeys.isEmpty && !otherKeys.isEmpty)
        try pool.withBlockingConnection { connection throws in
            for key in keys { try connection.set(key, value: [1]) }
        }
        victim.stop()

        try pool.withBlockingConnection { connection throws in
            for key in victimKeys.prefix(5) {
                let error = #expect(throws: MemcachedError.self) { try connection.get(key) }
                #expect(error?.code == .unavailable)
                #expect(error?.endpoint == victim.endpoint)
                #expect(error?.returnCode != nil)
                #expect(error.map { "\($0)" }?.contains("127.0.0.1:21298") == true)
            }
            for key in otherKeys {
                #expect(try connection.get(key) == [1])
            }
        }
    }

    @Test("with removeFailedServers, a stopped server's keys move to the others")
    func keysMove() async throws {
        let victim = try MemcachedPrivateServer(port: 21298)
        let servers = try Self.shared() + [victim.endpoint]
        let pool = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(
                connectTimeout: .milliseconds(200),
                failureLimit: 1,
                retryTimeout: .seconds(30),
                removeFailedServers: true,
                maxConnections: 1
            ),
            logger: Self.logger
        )
        defer { pool.close() }
        let prefix = "beacon-tests:move:\(UUID().uuidString)"
        let keys = (0..<200).map { "\(prefix):\($0)" }
        let victimKeys = try keys.filter { try pool.server(forKey: $0) == victim.endpoint }
        #expect(!victimKeys.isEmpty)
        victim.stop()

        // The first failure marks the server dead; libmemcached then rebuilds the connection's ring (the pool's only
        // one) without it, at most once a second, so retry until the key lands elsewhere, sleeping without holding a
        // thread of the cooperative pool. Bounded (30 s).
        var failures = 0
        while (try? pool.withBlockingConnection({ try $0.set(victimKeys[0], value: [2]) })) == nil, failures < 600 {
            failures += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(failures >= 1)
        try #require(failures < 600, "the key never moved off the stopped server")
        try pool.withBlockingConnection { connection throws in
            for key in victimKeys {
                try connection.set(key, value: [2])
                #expect(try connection.get(key) == [2])
                #expect(try connection.server(forKey: key) != victim.endpoint)
            }
        }
    }
}
