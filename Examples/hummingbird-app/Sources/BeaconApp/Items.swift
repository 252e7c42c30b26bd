// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import BeaconPostgres
import ExampleSupport
import Foundation
import Logging
import Metrics
import Synchronization

/// One stored item, as the API and the cache carry it (JSON).
struct Item: Codable, Sendable {
    var id: Int
    var value: String
    var updatedAt: String
}

/// The cache in front of the database: `app.cache` in services.yaml, built from
/// `service('myapp.dynamic.configuration').getMemcached()`.
///
/// The pool it holds there (a `DynamicMemcachedPool`) follows the servers published under the memcached prefix by
/// itself: a server that joins or leaves swaps the pool's servers, and this object stays the same. With fixed wiring
/// (services-fixed.yaml) it holds a `MemcachedPool` built once over a fixed server list.
final class ItemCache: Sendable {
    let pool: any MemcachedClient
    /// How long a cached item lives: a bound on how stale it can be if an invalidation is lost.
    let expiration: Duration = .seconds(60)

    init(pool: any MemcachedClient) {
        self.pool = pool
    }

    static func key(_ id: Int) -> String { "item:\(id)" }
}

/// The database behind the cache: `app.database` in services.yaml, built from
/// `service('myapp.dynamic.configuration').getDatabase(parameter('database_location'))`.
///
/// The pool it holds makes its connections wherever the database is published; a connection that fails rediscovers
/// the database and retries. With fixed wiring (services-fixed.yaml) the pool's factory reads fixed parameters.
/// This object records which server answered last, for `/admin/state`.
final class ItemStore: Sendable {
    let pool: PostgresConnectionPool
    private let schemaReady = Mutex(false)
    private let lastServer = Mutex<(endpoint: String, since: Double)?>(nil)
    private let logger: Logger

    init(pool: PostgresConnectionPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// The last update time as text, in UTC.
    private static let updatedAt = #"to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#

    /// The server the last query ran on, and since when queries go there.
    var currentServer: (endpoint: String, since: Double)? { lastServer.withLock { $0 } }

    /// Creates the items table once per process (every instance runs it; it is idempotent).
    func ensureSchema() async throws {
        if schemaReady.withLock({ $0 }) { return }
        // Checked first: CREATE ... IF NOT EXISTS on an existing table draws a notice, which libpq prints on stderr.
        let present = try await query("SELECT to_regclass('items') IS NOT NULL AND to_regclass('item_ids') IS NOT NULL")
        if try present[0].decode(Bool.self, column: 0) {
            schemaReady.withLock { $0 = true }
            return
        }
        try await query(
            "CREATE TABLE IF NOT EXISTS items (id bigint PRIMARY KEY, value text NOT NULL, "
                + "updated_at timestamptz NOT NULL DEFAULT now())"
        )
        // Ids of created items start far above those clients choose with PUT.
        try await query("CREATE SEQUENCE IF NOT EXISTS item_ids START 1000000")
        schemaReady.withLock { $0 = true }
    }

    func read(_ id: Int) async throws -> Item? {
        let rows = try await query(
            "SELECT id, value, \(Self.updatedAt) FROM items WHERE id = $1",
            [.integer(id)]
        )
        guard let row = rows.first else { return nil }
        return Item(
            id: try row.decode(Int.self, column: 0),
            value: try row.decode(String.self, column: 1),
            updatedAt: try row.decode(String.self, column: 2)
        )
    }

    func write(_ id: Int, value: String) async throws -> Item {
        let rows = try await query(
            "INSERT INTO items (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, "
                + "updated_at = now() RETURNING id, value, \(Self.updatedAt)",
            [.integer(id), .text(value)]
        )
        let row = rows[0]
        return Item(
            id: try row.decode(Int.self, column: 0),
            value: try row.decode(String.self, column: 1),
            updatedAt: try row.decode(String.self, column: 2)
        )
    }

    func create(value: String) async throws -> Item {
        let rows = try await query(
            "INSERT INTO items (id, value) VALUES (nextval('item_ids'), $1) RETURNING id, value, \(Self.updatedAt)",
            [.text(value)]
        )
        let row = rows[0]
        return Item(
            id: try row.decode(Int.self, column: 0),
            value: try row.decode(String.self, column: 1),
            updatedAt: try row.decode(String.self, column: 2)
        )
    }

    @discardableResult
    private func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        let (rows, endpoint) = try await pool.withConnection { connection in
            (try await connection.query(sql, parameters), connection.endpoint.description)
        }
        noteServer(endpoint)
        return rows
    }

    private func noteServer(_ endpoint: String) {
        let previous: String?? = lastServer.withLock { last in
            guard last?.endpoint != endpoint else { return .none }
            defer { last = (endpoint, WallClock.now) }
            return .some(last?.endpoint)
        }
        if case .some(let previous) = previous {
            logger.info(
                "database queries go to a new server",
                metadata: ["app.database.server": "\(endpoint)", "app.database.previous": "\(previous ?? "none")"]
            )
        }
    }
}

/// Reads through the cache and writes to the database, invalidating the cache (cache-aside): `app.items`.
final class ItemRepository: Sendable {
    enum Source: String {
        case cache = "hit"
        case database = "miss"
    }

    let cache: ItemCache
    let store: ItemStore
    private let logger: Logger
    private let hits = Counter(label: "beacon_app_cache_lookups_total", dimensions: [("result", "hit")])
    private let misses = Counter(label: "beacon_app_cache_lookups_total", dimensions: [("result", "miss")])
    private let cacheErrors = Counter(label: "beacon_app_cache_errors_total")
    private let databaseTimer = Metrics.Timer(label: "beacon_app_database_duration_seconds")

    init(cache: ItemCache, store: ItemStore, logger: Logger) {
        self.cache = cache
        self.store = store
        self.logger = logger
    }

    /// Reads an item: from memcached when it is there, else from PostgreSQL, then stores it in memcached.
    ///
    /// A memcached failure is not the request's failure: the item is read from the database instead.
    func read(_ id: Int) async throws -> (json: [UInt8], source: Source)? {
        let key = ItemCache.key(id)
        do {
            if let cached = try await cache.pool.get(key) {
                hits.increment()
                return (cached, .cache)
            }
        } catch {
            cacheErrors.increment()
            logger.debug("memcached read failed; reading the database", metadata: ["app.error": "\(error)"])
        }
        misses.increment()
        let start = ContinuousClock.now
        let item = try await store.read(id)
        databaseTimer.recordInterval(since: start)
        guard let item else { return nil }
        let json = try Self.encode(item)
        do {
            try await cache.pool.set(key, value: json, expiration: cache.expiration)
        } catch {
            cacheErrors.increment()
            logger.debug("memcached write failed", metadata: ["app.error": "\(error)"])
        }
        return (json, .database)
    }

    /// Writes an item to PostgreSQL, then deletes its cached copy so that the next read sees the new value.
    func write(_ id: Int, value: String) async throws -> [UInt8] {
        let start = ContinuousClock.now
        let item = try await store.write(id, value: value)
        databaseTimer.recordInterval(since: start)
        await invalidate(id)
        return try Self.encode(item)
    }

    /// Creates an item with the next free id.
    func create(value: String) async throws -> [UInt8] {
        let start = ContinuousClock.now
        let item = try await store.create(value: value)
        databaseTimer.recordInterval(since: start)
        await invalidate(item.id)
        return try Self.encode(item)
    }

    private func invalidate(_ id: Int) async {
        do {
            _ = try await cache.pool.delete(ItemCache.key(id))
        } catch {
            // The cached copy, if any, expires with its expiration.
            cacheErrors.increment()
            logger.warning(
                "memcached invalidation failed; the cached item expires within its expiration",
                metadata: ["app.item": "\(id)", "app.error": "\(error)"]
            )
        }
    }

    private static func encode(_ item: Item) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(item))
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
