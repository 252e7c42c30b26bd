// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Logging
import Testing

@Suite("MemcachedPool.Configuration")
struct MemcachedPoolConfigurationTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("the defaults")
    func defaults() {
        let configuration = MemcachedPool.Configuration()
        #expect(configuration.distribution == .consistent)
        #expect(configuration.libketamaCompatible == false)
        #expect(configuration.binaryProtocol == false)
        #expect(configuration.tcpNoDelay)
        #expect(configuration.removeFailedServers == false)
        #expect(configuration.connectTimeout == .seconds(1))
        #expect(configuration.maxConnections == 4)
    }

    @Test("configurations that cannot work are refused")
    func invalid() {
        let cases: [(MemcachedPool.Configuration, [Endpoint])] = [
            (MemcachedPool.Configuration(), []),
            (
                MemcachedPool.Configuration(keyPrefix: String(repeating: "p", count: 128)),
                [Endpoint(host: "a", port: 1)]
            ),
            (MemcachedPool.Configuration(maxConnections: 0), [Endpoint(host: "a", port: 1)]),
            (MemcachedPool.Configuration(), [Endpoint(host: "a", port: 0)]),
            (MemcachedPool.Configuration(), [Endpoint(host: "a", port: 11211, weight: 0)]),
        ]
        for (configuration, servers) in cases {
            let error = #expect(throws: MemcachedError.self) {
                try MemcachedPool(servers: servers, configuration: configuration, logger: Self.logger)
            }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test("consistent hashing takes 100 servers and refuses 101 (libmemcached would abort); modula takes 1,000")
    func serverCountLimit() throws {
        let servers = (0..<1_000).map { Endpoint(host: "127.0.0.1", port: 41_000 + $0) }
        for configuration in [MemcachedPool.Configuration(), MemcachedPool.Configuration(libketamaCompatible: true)] {
            let hundred = try MemcachedPool(
                servers: Array(servers.prefix(100)),
                configuration: configuration,
                logger: Self.logger
            )
            hundred.close()
            let error = #expect(throws: MemcachedError.self) {
                try MemcachedPool(
                    servers: Array(servers.prefix(101)),
                    configuration: configuration,
                    logger: Self.logger
                )
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains("101 servers: consistent hashing takes at most 100") == true)
        }
        let modula = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(distribution: .modula),
            logger: Self.logger
        )
        modula.close()
    }

    @Test("adding a fourth server moves about a quarter of the keys, all of them to the new server")
    func fourthServer() throws {
        let three = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211")
        let four = three + [Endpoint(host: "10.0.0.4", port: 11211)]
        for configuration in [MemcachedPool.Configuration(), MemcachedPool.Configuration(libketamaCompatible: true)] {
            let before = try MemcachedPool(servers: three, configuration: configuration, logger: Self.logger)
            let after = try MemcachedPool(servers: four, configuration: configuration, logger: Self.logger)
            defer {
                before.close()
                after.close()
            }
            var moved = 0
            let keys = (0..<10_000).map { "user:\($0)" }
            for key in keys {
                let old = try before.server(forKey: key)
                let new = try after.server(forKey: key)
                if old != new {
                    moved += 1
                    #expect(new == four[3])
                }
            }
            let fraction = Double(moved) / Double(keys.count)
            #expect(fraction > 0.18 && fraction < 0.32, "moved \(fraction)")
        }
    }

    @Test("modula moves most keys when a server is added")
    func modula() throws {
        let three = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211")
        let configuration = MemcachedPool.Configuration(distribution: .modula)
        let before = try MemcachedPool(servers: three, configuration: configuration, logger: Self.logger)
        let after = try MemcachedPool(
            servers: three + [Endpoint(host: "10.0.0.4", port: 11211)],
            configuration: configuration,
            logger: Self.logger
        )
        let moved = try (0..<1000).filter { try before.server(forKey: "k\($0)") != after.server(forKey: "k\($0)") }
        #expect(moved.count > 500)
    }

    @Test("a closed pool refuses operations, naming the reason")
    func closed() throws {
        let pool = try MemcachedPool(servers: [Endpoint(host: "10.0.0.1", port: 11211)], logger: Self.logger)
        pool.close()
        #expect(pool.isClosed && pool.isReleased)
        let error = #expect(throws: MemcachedError.self) {
            try pool.withBlockingConnection { try $0.get("k") }
        }
        #expect(error?.code == .closed)
    }

    @Test("an error's description names the server, the key and libmemcached's return code")
    func errorDescription() {
        let error = MemcachedError(
            .unavailable,
            "get failed",
            endpoint: Endpoint(host: "127.0.0.1", port: 21212),
            key: "user:42",
            returnCode: 3,
            returnCodeName: "CONNECTION FAILURE"
        )
        #expect(
            error.description
                == "unavailable at 127.0.0.1:21212 for key \"user:42\": get failed (libmemcached 3 CONNECTION FAILURE)"
        )
    }
}
