// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging
import Testing

/// `MemcachedPool` against the three memcached instances of `scripts/servers`.
@Suite("MemcachedPool against memcached", .requiresServers, .timeLimit(.minutes(1)))
struct MemcachedPoolTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func servers() throws -> [Endpoint] {
        try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
    }

    static func uniqueKey(_ name: String) -> String { "beacon-tests:\(name):\(UUID().uuidString)" }

    @Test("every operation round-trips, synchronously and asynchronously", arguments: [false, true])
    func roundTrips(binaryProtocol: Bool) async throws {
        let pool = try MemcachedPool(
            servers: try Self.servers(),
            configuration: MemcachedPool.Configuration(binaryProtocol: binaryProtocol),
            logger: Self.logger
        )
        defer { pool.close() }
        let key = Self.uniqueKey("round-trip")

        #expect(try await pool.get(key) == nil)
        #expect(try await pool.add(key, value: Array("one".utf8), flags: 7))
        #expect(try await pool.add(key, value: Array("two".utf8)) == false)
        let item = try #require(try await pool.getItem(key))
        #expect(Array(item.value) == Array("one".utf8))
        #expect(item.flags == 7)
        #expect(try await pool.replace(key, value: Array("three".utf8)))
        #expect(try await pool.replace(Self.uniqueKey("absent"), value: [1]) == false)
        #expect(try await pool.get(key) == Array("three".utf8))
        #expect(try await pool.touch(key, expiration: .seconds(300)))
        #expect(try await pool.delete(key))
        #expect(try await pool.delete(key) == false)
        #expect(try await pool.touch(key, expiration: .seconds(300)) == false)

        let counter = Self.uniqueKey("counter")
        #expect(try await pool.increment(counter) == nil)
        try await pool.set(counter, value: Array("10".utf8))
        #expect(try await pool.increment(counter, by: 5) == 15)
        #expect(try await pool.decrement(counter, by: 20) == 0)

        // The same through the blocking API.
        let blocking = Self.uniqueKey("blocking")
        try pool.withBlockingConnection { connection in
            try connection.set(blocking, value: Array("sync".utf8), expiration: .seconds(60))
            #expect(try connection.get(blocking) == Array("sync".utf8))
            #expect(try connection.delete(blocking))
        }
    }

    @Test("compare-and-swap stores once and reports the conflict", arguments: [false, true])
    func compareAndSwap(binaryProtocol: Bool) async throws {
        let pool = try MemcachedPool(
            servers: try Self.servers(),
            configuration: MemcachedPool.Configuration(binaryProtocol: binaryProtocol),
            logger: Self.logger
        )
        defer { pool.close() }
        let key = Self.uniqueKey("cas")
        try await pool.set(key, value: Array("v1".utf8))
        let first = try #require(try await pool.getItem(key))
        let second = try #require(try await pool.getItem(key))
        #expect(first.cas == second.cas)
        #expect(try await pool.compareAndSwap(key, value: Array("v2".utf8), cas: first.cas))
        #expect(try await pool.compareAndSwap(key, value: Array("v3".utf8), cas: second.cas) == false)
        #expect(try await pool.get(key) == Array("v2".utf8))
        try await pool.delete(key)
        #expect(try await pool.compareAndSwap(key, value: Array("v4".utf8), cas: first.cas) == false)
    }

    @Test("getMulti reads keys spread over all three servers", arguments: [false, true])
    func getMulti(binaryProtocol: Bool) async throws {
        let servers = try Self.servers()
        let pool = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(binaryProtocol: binaryProtocol),
            logger: Self.logger
        )
        defer { pool.close() }
        let prefix = Self.uniqueKey("multi")
        let keys = (0..<60).map { "\(prefix):\($0)" }
        #expect(Set(try keys.map { try pool.server(forKey: $0) }) == Set(servers))
        for (index, key) in keys.enumerated() {
            try await pool.set(key, value: Array("value \(index)".utf8), flags: UInt32(index))
        }
        let absent = "\(prefix):absent"
        let items = try await pool.getMulti(keys + [absent])
        #expect(items.count == keys.count)
        for (index, key) in keys.enumerated() {
            #expect(items[key].map { Array($0.value) } == Array("value \(index)".utf8))
            #expect(items[key]?.flags == UInt32(index))
        }
        #expect(items[absent] == nil)

        // The allocation-free form sees the same values.
        var seen: [String: [UInt8]] = [:]
        try pool.withBlockingConnection { connection in
            try connection.getMulti(keys + [absent]) { key, value in
                seen[String(decoding: key, as: UTF8.self)] = Array(value)
                #expect(value.flags == items[String(decoding: key, as: UTF8.self)]?.flags)
            }
        }
        #expect(seen == items.dictionary.mapValues { Array($0.value) })
    }

    @Test(
        "getMulti keeps request order, repeated keys, empty and large values, flags and tokens",
        arguments: [false, true]
    )
    func getMultiItems(binaryProtocol: Bool) async throws {
        let servers = try Self.servers()
        let pool = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(binaryProtocol: binaryProtocol),
            logger: Self.logger
        )
        defer { pool.close() }
        let prefix = Self.uniqueKey("items")
        let keys = (0..<30).map { "\(prefix):\($0)" }
        #expect(Set(try keys.map { try pool.server(forKey: $0) }) == Set(servers))
        let large = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        func value(_ index: Int) -> [UInt8] {
            switch index % 10 {
            case 0: []
            case 5: large
            default: Array("value \(index)".utf8)
            }
        }
        for (index, key) in keys.enumerated() where index % 3 != 2 {
            try await pool.set(key, value: value(index), expiration: .seconds(120), flags: UInt32(index))
        }
        // Every key twice, the second time in reverse, with the ones never stored.
        let requested = keys + keys.reversed()
        let items = try await pool.getMulti(requested)
        let stored = keys.indices.filter { $0 % 3 != 2 }
        #expect(items.count == 2 * stored.count)
        #expect(items.requestedKeys == requested)
        #expect(items.map(\.key) == requested.filter { key in stored.contains { keys[$0] == key } })
        for (index, key) in keys.enumerated() {
            let item = items[key]
            if index % 3 == 2 {
                #expect(item == nil)
                continue
            }
            #expect(item.map { Array($0.value) } == value(index))
            #expect(item?.flags == UInt32(index))
            // The token is the one getItem reads, and the same at both positions.
            #expect(item?.cas == (try await pool.getItem(key))?.cas)
            #expect(items.item(at: index) == items.item(at: requested.count - 1 - index))
        }
        // The dictionary is what the dictionary form returned: one item per key found, as getItem reads it.
        var expected: [String: MemcachedItem] = [:]
        for key in keys {
            if let item = try await pool.getItem(key) { expected[key] = item }
        }
        #expect(items.dictionary == expected)

        let none = try await pool.getMulti([])
        #expect(none.isEmpty && none.requestedKeys.isEmpty)
        // The same through the blocking API.
        let blocking = try pool.withBlockingConnection { connection in try connection.getMulti(keys) }
        #expect(blocking.dictionary == expected)
    }

    @Test("Codable values and a key prefix")
    func codableAndPrefix() async throws {
        struct Profile: Codable, Equatable {
            var name: String
            var visits: Int
        }
        let servers = try Self.servers()
        let prefixed = try MemcachedPool(
            servers: servers,
            configuration: MemcachedPool.Configuration(keyPrefix: "app1:"),
            logger: Self.logger
        )
        let plain = try MemcachedPool(servers: servers, logger: Self.logger)
        defer {
            prefixed.close()
            plain.close()
        }
        let key = Self.uniqueKey("profile")
        try await prefixed.set(key, encoding: Profile(name: "Ada", visits: 3))
        #expect(try await prefixed.get(key, as: Profile.self) == Profile(name: "Ada", visits: 3))
        #expect(try await plain.get(key) == nil)
        // The prefix is on the wire but not in the hash: the key stays on the server of the unprefixed key.
        #expect(try prefixed.server(forKey: key) == plain.server(forKey: key))
        let direct = try MemcachedPool(servers: [try prefixed.server(forKey: key)], logger: Self.logger)
        defer { direct.close() }
        #expect(try await direct.get("app1:" + key, as: Profile.self) == Profile(name: "Ada", visits: 3))
        let items = try await prefixed.getMulti([key])
        #expect(items.map(\.key) == [key])
    }

    @Test(
        "keys are stored on the server server(forKey:) names",
        arguments: [
            MemcachedPool.Configuration(),
            MemcachedPool.Configuration(libketamaCompatible: true),
            MemcachedPool.Configuration(binaryProtocol: true, keyPrefix: "p:"),
            MemcachedPool.Configuration(distribution: .modula),
        ]
    )
    func keysLiveWhereNamed(configuration: MemcachedPool.Configuration) async throws {
        let servers = try Self.servers()
        let pool = try MemcachedPool(servers: servers, configuration: configuration, logger: Self.logger)
        var direct: [Endpoint: MemcachedPool] = [:]
        for server in servers {
            var single = configuration
            single.distribution = .modula
            single.libketamaCompatible = false
            direct[server] = try MemcachedPool(servers: [server], configuration: single, logger: Self.logger)
        }
        defer {
            pool.close()
            for pool in direct.values { pool.close() }
        }
        let prefix = Self.uniqueKey("placement")
        for index in 0..<90 {
            let key = "\(prefix):\(index):é"
            try await pool.set(key, value: [UInt8(index)])
            let named = try pool.server(forKey: key)
            for (server, single) in direct {
                let found = try await single.get(key)
                #expect((found != nil) == (server == named), "key \(key) expected only on \(named)")
            }
        }
    }

    @Test("invalid keys fail before any I/O, naming the key")
    func invalidKeys() throws {
        let pool = try MemcachedPool(servers: try Self.servers(), logger: Self.logger)
        defer { pool.close() }
        for key in ["", "has space", "line\nbreak", String(repeating: "k", count: 251)] {
            let error = #expect(throws: MemcachedError.self) {
                try pool.withBlockingConnection { try $0.get(key) }
            }
            #expect(error?.code == .invalidKey)
            #expect(error?.key == key)
        }
    }
}
