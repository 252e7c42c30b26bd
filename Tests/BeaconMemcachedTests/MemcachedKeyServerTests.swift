// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging
import Testing

/// Whether the memcached servers of `scripts/servers` are there to test against.
enum MemcachedTestServers {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["BEACON_SERVERS"] == "1" || environment["BEACON_REQUIRE_SERVERS"] == "1"
}

/// The key limits against the memcached servers of `scripts/servers`: the longest key memcached takes works in every
/// operation, one byte more is refused before it is sent. Enabled by `BEACON_SERVERS=1` (or `BEACON_REQUIRE_SERVERS=1`,
/// which fails instead of skipping when `BEACON_MEMCACHED_ENDPOINTS` is missing), with the variables of
/// `eval "$(scripts/servers env memcached)"`.
@Suite(
    "Memcached keys against memcached",
    .enabled(if: MemcachedTestServers.enabled, "needs BEACON_SERVERS=1 and scripts/servers"),
    .timeLimit(.minutes(1))
)
struct MemcachedKeyServerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func servers() throws -> [Endpoint] {
        let list = MemcachedTestServers.environment["BEACON_MEMCACHED_ENDPOINTS"]
        return try Endpoint.list(parsing: try #require(list, "BEACON_MEMCACHED_ENDPOINTS is not set"))
    }

    /// A key of exactly `length` bytes, unique to this run: a unique start, then `filler` as often as it fits, then
    /// "k" up to the length.
    static func key(_ name: String, length: Int, filler: Character = "k") -> String {
        var key = "beacon-tests:\(name):\(UUID().uuidString):"
        while key.utf8.count + filler.utf8.count <= length { key.append(filler) }
        while key.utf8.count < length { key.append("k") }
        return key
    }

    struct Setup: Sendable, CustomTestStringConvertible {
        var binaryProtocol: Bool
        var keyPrefix: String?
        var testDescription: String {
            (self.binaryProtocol ? "binary" : "ASCII") + (self.keyPrefix.map { " with prefix \($0)" } ?? "")
        }
        var longest: Int { 250 - (self.keyPrefix?.utf8.count ?? 0) }
    }

    static let setups = [
        Setup(binaryProtocol: false),
        Setup(binaryProtocol: true),
        Setup(binaryProtocol: false, keyPrefix: "beacon-prefix:"),
        Setup(binaryProtocol: true, keyPrefix: "beacon-prefix:"),
    ]

    static func pool(_ setup: Setup) throws -> MemcachedPool {
        try MemcachedPool(
            servers: try Self.servers(),
            configuration: MemcachedPool.Configuration(
                binaryProtocol: setup.binaryProtocol,
                keyPrefix: setup.keyPrefix
            ),
            logger: Self.logger
        )
    }

    @Test("the longest key works in every operation; one byte more is refused by every operation", arguments: setups)
    func boundary(_ setup: Setup) async throws {
        let pool = try Self.pool(setup)
        defer { pool.close() }
        let key = Self.key("longest", length: setup.longest)
        let counter = Self.key("counter", length: setup.longest)
        #expect(key.utf8.count == setup.longest)

        #expect(try await pool.add(key, value: Array("one".utf8)))
        #expect(try await pool.get(key) == Array("one".utf8))
        let item = try #require(try await pool.getItem(key))
        #expect(try await pool.compareAndSwap(key, value: Array("two".utf8), cas: item.cas))
        #expect(try await pool.replace(key, value: Array("three".utf8)))
        #expect(try await pool.touch(key, expiration: .seconds(60)))
        #expect(try await pool.getMulti([key])[key].map { Array($0.value) } == Array("three".utf8))
        try await pool.set(counter, value: Array("10".utf8), expiration: .seconds(60))
        #expect(try await pool.increment(counter, by: 5) == 15)
        #expect(try await pool.decrement(counter, by: 3) == 12)
        try pool.withBlockingConnection { connection in
            #expect(try connection.get(key) == Array("three".utf8))
            var found = 0
            try connection.getMulti([key, counter]) { returned, _ in
                #expect(returned.count == setup.longest)
                found += 1
            }
            #expect(found == 2)
        }
        #expect(try await pool.delete(key))
        #expect(try await pool.delete(counter))

        let tooLong = key + "k"
        for (name, operation) in MemcachedInvalidKeyTests.asyncOperations {
            let error = await #expect(throws: MemcachedError.self) { try await operation(pool, tooLong) }
            MemcachedInvalidKeyTests.expectRefused(error, tooLong, name)
        }
        for (name, operation) in MemcachedInvalidKeyTests.blockingOperations {
            let error = #expect(throws: MemcachedError.self) {
                try pool.withBlockingConnection { try operation($0, tooLong) }
            }
            MemcachedInvalidKeyTests.expectRefused(error, tooLong, name)
        }
    }

    @Test("the limit counts UTF-8 bytes; the binary protocol carries spaces and control bytes", arguments: setups)
    func bytes(_ setup: Setup) async throws {
        let pool = try Self.pool(setup)
        defer { pool.close() }
        // 2 bytes per "é": the longest key in bytes, far fewer characters.
        let accented = Self.key("utf8", length: setup.longest, filler: "é")
        #expect(accented.count < 200)
        try await pool.set(accented, value: [1], expiration: .seconds(60))
        #expect(try await pool.get(accented) == [1])
        #expect(try await pool.delete(accented))
        let error = await #expect(throws: MemcachedError.self) { try await pool.get(accented + "éé") }
        #expect(error?.code == .invalidKey)

        for key in ["has space", "tab\tkey", "line\nbreak", "del\u{7F}"].map({ Self.key("bytes", length: 60) + $0 }) {
            if setup.binaryProtocol {
                try await pool.set(key, value: [2], expiration: .seconds(60))
                #expect(try await pool.get(key) == [2])
                #expect(try await pool.getMulti(["plain", key])[key].map { Array($0.value) } == [2])
                #expect(try await pool.delete(key))
            } else {
                let error = await #expect(throws: MemcachedError.self) { try await pool.set(key, value: [2]) }
                #expect(error?.code == .invalidKey)
            }
        }
    }

    @Test("a multi-get with a refused key throws as a whole; without it, every other value is there", arguments: setups)
    func multiGet(_ setup: Setup) async throws {
        let pool = try Self.pool(setup)
        defer { pool.close() }
        let keys = (0..<6).map { Self.key("multi-\($0)", length: 80) }
        for (position, key) in keys.enumerated() {
            try await pool.set(key, value: [UInt8(position)], expiration: .seconds(60))
        }
        let refused = ["", String(repeating: "k", count: setup.longest + 1)] + (setup.binaryProtocol ? [] : ["a b"])
        for bad in refused {
            var requested = keys
            requested.insert(bad, at: 3)
            let error = await #expect(throws: MemcachedError.self) { try await pool.getMulti(requested) }
            #expect(error?.code == .invalidKey)
            #expect(error?.key == bad)
            #expect(error?.message.hasPrefix("key 3 (counted from 0) of the 7 requested: ") == true)
        }
        let items = try await pool.getMulti(keys)
        for (position, key) in keys.enumerated() {
            #expect(items[key].map { Array($0.value) } == [UInt8(position)])
        }
        for key in keys { try await pool.delete(key) }
    }

    @Test("a dynamic pool applies the same limits", arguments: setups)
    func dynamic(_ setup: Setup) async throws {
        let pool = DynamicMemcachedPool(
            source: StaticSource(),
            servers: .key("/memcached"),
            configuration: DynamicMemcachedPool.Configuration(
                pool: MemcachedPool.Configuration(binaryProtocol: setup.binaryProtocol, keyPrefix: setup.keyPrefix)
            ),
            logger: Self.logger
        )
        defer { pool.close() }
        try pool.update(servers: try Self.servers())
        let key = Self.key("dynamic", length: setup.longest)
        try await pool.set(key, value: [3], expiration: .seconds(60))
        #expect(try pool.withBlockingConnection { try $0.get(key) } == [3])
        #expect(try await pool.delete(key))
        let error = await #expect(throws: MemcachedError.self) { try await pool.set(key + "k", value: [3]) }
        #expect(error?.code == .invalidKey)
        // Placement follows PHP: the prefix is not counted.
        #expect(try Self.servers().contains(try pool.server(forKey: String(repeating: "k", count: 250))))
    }
}
