// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging
import Testing

/// The examples of Documentation/Memcached.md that talk to memcached, as written there (on the servers of
/// `scripts/servers`, with unique keys).
@Suite("Documentation/Memcached.md examples against memcached", .requiresServers, .timeLimit(.minutes(1)))
struct MemcachedGuideTests {
    struct Profile: Codable, Equatable {
        var name: String
    }

    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func pool() throws -> MemcachedPool {
        var configuration = MemcachedPool.Configuration()
        configuration.keyPrefix = "guide:\(UUID().uuidString):"
        return try MemcachedPool(
            servers: try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS")),
            configuration: configuration,
            logger: logger
        )
    }

    @Test("Operations")
    func operations() async throws {
        let pool = try self.pool()
        defer { pool.close() }

        try await pool.set("greeting", value: Array("hello".utf8), expiration: .seconds(60), flags: 1)
        let value = try await pool.get("greeting")
        let wasNew = try await pool.add("greeting", value: [0])
        let items = try await pool.getMulti(["greeting", "absent"])
        try await pool.set("profile", encoding: Profile(name: "Ada"))
        let profile = try await pool.get("profile", as: Profile.self)
        #expect(value == Array("hello".utf8))
        #expect(wasNew == false)
        var lines: [String] = []
        for (key, item) in items { lines.append("\(key) \(item.value.count) \(item.flags)") }
        let greeting = items["greeting"].map { String(decoding: $0.value, as: UTF8.self) }
        let byKey = items.dictionary
        #expect(lines == ["greeting 5 1"])
        #expect(greeting == "hello")
        #expect(byKey.keys.sorted() == ["greeting"])
        #expect(profile == Profile(name: "Ada"))

        let counter = try pool.withBlockingConnection { connection in
            try connection.set("hits", value: Array("0".utf8))
            return try connection.increment("hits", by: 5)
        }
        #expect(counter == 5)

        let item = try #require(try await pool.getItem("greeting"))
        let stored = try await pool.compareAndSwap("greeting", value: Array("hi".utf8), cas: item.cas)
        #expect(stored)
        #expect(try await pool.compareAndSwap("greeting", value: Array("again".utf8), cas: item.cas) == false)
    }

    @Test("Async operations without thread hand-offs")
    func preferringTheWorkers() async throws {
        let pool = try self.pool()
        defer { pool.close() }
        let id = 7
        let fragmentKeys = ["header", "footer"]
        try await pool.set("user:\(id)", value: Array("Ada".utf8))
        for key in fragmentKeys { try await pool.set(key, value: Array(key.utf8)) }
        @Sendable func render(_ user: [UInt8]?, _ fragments: MemcachedItems) -> String {
            ([String(decoding: user ?? [], as: UTF8.self)]
                + fragments.map { String(decoding: $0.1.value, as: UTF8.self) })
                .joined(separator: " ")
        }

        let workers = pool.workerThreads  // or the group given in the configuration
        let page = try await withTaskExecutorPreference(workers) {
            let user = try await pool.get("user:\(id)")  // no hand-off
            let fragments = try await pool.getMulti(fragmentKeys)
            return render(user, fragments)
        }
        #expect(page == "Ada header footer")
    }

    @Test("Benchmark: getMulti(_:each:)")
    func getMultiEach() async throws {
        let pool = try self.pool()
        defer { pool.close() }
        for key in ["a", "b", "c"] { try await pool.set(key, value: Array(key.utf8) + [0]) }

        var total = 0
        try pool.withBlockingConnection { connection in
            try connection.getMulti(["a", "b", "c"]) { key, value in total += value.count }
        }
        #expect(total == 6)
    }

    @Test("Following discovery: DynamicMemcachedPool, with the test servers")
    func dynamic() async throws {
        let endpoints = try Endpoint.list(parsing: TestServers.value("BEACON_MEMCACHED_ENDPOINTS"))
        let source = StaticSource([
            "/services/memcached/a": endpoints[0].description,
            "/services/memcached/b": endpoints[1].description,
        ])
        let dynamic = DynamicMemcachedPool(
            source: source,
            servers: .prefix("/services/memcached/"),
            configuration: DynamicMemcachedPool.Configuration(pool: MemcachedPool.Configuration()),
            logger: logger
        )
        let key = "guide:dynamic:\(UUID().uuidString)"
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await dynamic.run() }
            await dynamic.waitForUpdate(after: 0)
            try await dynamic.set(key, value: [1])
            #expect(try await dynamic.get(key) == [1])
            group.cancelAll()
        }
    }
}
