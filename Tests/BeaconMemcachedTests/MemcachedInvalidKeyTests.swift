// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Logging
import Testing

/// Every keyed operation refuses a key memcached cannot take with `invalidKey`, before any I/O: the pools point at a
/// port nothing listens on, so an operation that sent anything would fail with `unavailable` instead.
@Suite("Invalid memcached keys, every operation", .timeLimit(.minutes(1)))
struct MemcachedInvalidKeyTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let nowhere = Endpoint(host: "127.0.0.1", port: 1)

    /// A pool configuration and the keys it must refuse.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var binaryProtocol: Bool
        var keyPrefix: String?
        var refused: [String]
        var testDescription: String { self.name }

        var configuration: MemcachedPool.Configuration {
            MemcachedPool.Configuration(
                connectTimeout: .milliseconds(200),
                pollTimeout: .milliseconds(200),
                binaryProtocol: self.binaryProtocol,
                keyPrefix: self.keyPrefix
            )
        }
    }

    static let tooLong = [String(repeating: "k", count: 251), String(repeating: "é", count: 126)]

    static let cases = [
        Case(
            name: "ASCII",
            binaryProtocol: false,
            refused: [""] + tooLong + ["has space", "tab\tkey", "line\nbreak", "cr\r", "nul\0", "del\u{7F}", "\u{1F}"]
        ),
        Case(name: "binary", binaryProtocol: true, refused: [""] + tooLong),
        Case(
            name: "ASCII with a key prefix",
            binaryProtocol: false,
            keyPrefix: "shop:",
            refused: ["", String(repeating: "k", count: 246), "has space"]
        ),
        Case(
            name: "binary with a key prefix",
            binaryProtocol: true,
            keyPrefix: "shop:",
            refused: ["", String(repeating: "k", count: 246)]
        ),
    ]

    typealias BlockingOperation = @Sendable (MemcachedConnection, String) throws -> Void
    typealias AsyncOperation = @Sendable (any MemcachedClient, String) async throws -> Void

    /// Every keyed method of `MemcachedConnection`.
    static let blockingOperations: [(String, BlockingOperation)] = [
        ("get", { _ = try $0.get($1) }),
        ("getItem", { _ = try $0.getItem($1) }),
        ("getMulti", { _ = try $0.getMulti([$1]) }),
        ("getMulti(each:)", { connection, key in try connection.getMulti([key]) { _, _ in } }),
        ("set", { try $0.set($1, value: [1]) }),
        ("add", { _ = try $0.add($1, value: [1]) }),
        ("replace", { _ = try $0.replace($1, value: [1]) }),
        ("compareAndSwap", { _ = try $0.compareAndSwap($1, value: [1], cas: 1) }),
        ("delete", { try $0.delete($1) }),
        ("touch", { try $0.touch($1, expiration: .seconds(1)) }),
        ("increment", { try $0.increment($1) }),
        ("decrement", { try $0.decrement($1, by: 2) }),
    ]

    /// Every keyed operation of `MemcachedClient`.
    static let asyncOperations: [(String, AsyncOperation)] = [
        ("get", { _ = try await $0.get($1) }),
        ("getItem", { _ = try await $0.getItem($1) }),
        ("getMulti", { _ = try await $0.getMulti([$1]) }),
        ("set", { try await $0.set($1, value: [1]) }),
        ("add", { _ = try await $0.add($1, value: [1]) }),
        ("replace", { _ = try await $0.replace($1, value: [1]) }),
        ("compareAndSwap", { _ = try await $0.compareAndSwap($1, value: [1], cas: 1) }),
        ("delete", { try await $0.delete($1) }),
        ("touch", { try await $0.touch($1, expiration: .seconds(1)) }),
        ("increment", { try await $0.increment($1) }),
        ("decrement", { try await $0.decrement($1, by: 2) }),
        ("get(_:as:)", { _ = try await $0.get($1, as: [Int].self) }),
        ("set(_:encoding:)", { try await $0.set($1, encoding: [1, 2]) }),
    ]

    /// Checks that `error` refuses `key` before any I/O.
    static func expectRefused(_ error: MemcachedError?, _ key: String, _ operation: String) {
        #expect(error?.code == .invalidKey, "\(operation) with \(key.utf8.count) bytes: \(String(describing: error))")
        #expect(error?.key == key, "\(operation)")
        #expect(error?.returnCode == nil, "\(operation): refused by libmemcached, not before it")
    }

    static func clients(_ testCase: Case) throws -> (MemcachedPool, DynamicMemcachedPool) {
        let pool = try MemcachedPool(
            servers: [Self.nowhere],
            configuration: testCase.configuration,
            logger: Self.logger
        )
        let dynamic = DynamicMemcachedPool(
            source: StaticSource(),
            servers: .key("/memcached"),
            configuration: DynamicMemcachedPool.Configuration(pool: testCase.configuration),
            logger: Self.logger
        )
        try dynamic.update(servers: [Self.nowhere])
        return (pool, dynamic)
    }

    @Test("blocking operations, on both pools", arguments: cases)
    func blocking(_ testCase: Case) throws {
        let (pool, dynamic) = try Self.clients(testCase)
        defer {
            pool.close()
            dynamic.close()
        }
        for client in [pool as any MemcachedClient, dynamic] {
            for key in testCase.refused {
                for (name, operation) in Self.blockingOperations {
                    let error = #expect(throws: MemcachedError.self) {
                        try client.withBlockingConnection { connection in try operation(connection, key) }
                    }
                    Self.expectRefused(error, key, name)
                }
            }
        }
    }

    @Test("async operations, on both pools", arguments: cases)
    func async(_ testCase: Case) async throws {
        let (pool, dynamic) = try Self.clients(testCase)
        defer {
            pool.close()
            dynamic.close()
        }
        for client in [pool as any MemcachedClient, dynamic] {
            for key in testCase.refused {
                for (name, operation) in Self.asyncOperations {
                    let error = await #expect(throws: MemcachedError.self) { try await operation(client, key) }
                    Self.expectRefused(error, key, name)
                }
            }
        }
    }

    @Test("a refused key fails the whole multi-get, named by its position, before anything is sent", arguments: cases)
    func multiGet(_ testCase: Case) async throws {
        let (pool, dynamic) = try Self.clients(testCase)
        defer {
            pool.close()
            dynamic.close()
        }
        for client in [pool as any MemcachedClient, dynamic] {
            for key in testCase.refused {
                let keys = ["first", "second", key, "fourth", ""]
                let error = await #expect(throws: MemcachedError.self) { try await client.getMulti(keys) }
                Self.expectRefused(error, key, "getMulti")
                #expect(error?.message.hasPrefix("key 2 (counted from 0) of the 5 requested: ") == true)
                let blocking = #expect(throws: MemcachedError.self) {
                    try client.withBlockingConnection { connection in
                        try connection.getMulti(keys) { _, _ in Issue.record("a value was lent") }
                    }
                }
                Self.expectRefused(blocking, key, "getMulti(each:)")
                #expect(blocking?.message == error?.message)
            }
        }
    }

    @Test("a key that passes the checks reaches libmemcached (which then fails to connect)", arguments: cases)
    func acceptedKeysAreSent(_ testCase: Case) async throws {
        let (pool, _) = try Self.clients(testCase)
        defer { pool.close() }
        let longest = String(repeating: "k", count: 250 - (testCase.keyPrefix?.utf8.count ?? 0))
        for key in [longest, "clé"] + (testCase.binaryProtocol ? ["has space", "line\nbreak"] : []) {
            let error = await #expect(throws: MemcachedError.self) { try await pool.get(key) }
            #expect(error?.code == .unavailable, "\(String(describing: error))")
        }
    }
}
