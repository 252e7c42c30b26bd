// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
public import BeaconMemcached
public import BeaconPostgres
import ServiceLifecycle
import Synchronization

extension DiscoveryService {
    /// A ketama memcached pool over the servers at a location, which swaps its servers when they change.
    ///
    /// One pool per location: later calls return the same pool. It is followed by ``run()`` and closed when
    /// ``run()`` ends. Reading it does not mark the service being built for rebuild: the pool follows by itself.
    ///
    /// - Parameter location: A key holding a comma-separated list, a prefix with one server per key (endpoint
    ///   text or `ServiceInstance` JSON), or a service (`.service("memcached")`, one server per registered instance,
    ///   read and followed through the source as a `ServiceRegistry`, whichever registry it is); `nil` for
    ///   ``Configuration/memcached``'s location.
    /// - Returns: The pool, with its first server list in place.
    /// - Throws: `BeaconError` with code `BeaconError.Code.notFound` naming the location when it holds no
    ///   server, `BeaconError.Code.invalidValue` naming the key and text of a server that does not parse,
    ///   `BeaconError.Code.unsupportedLocation` for a service when the source is not a service registry, the
    ///   source's error when nothing can be read, or `BeaconError.Code.unavailable` after ``close()``.
    public func memcached(_ location: DiscoveryLocation? = nil) async throws -> DynamicMemcachedPool {
        let location = location ?? configuration.memcached.location
        let pool = try client(at: location, in: \.memcached, what: "memcached") {
            DynamicMemcachedPool(
                source: cache,
                servers: location,
                configuration: .init(
                    pool: configuration.memcached.pool,
                    defaultPort: configuration.memcached.defaultPort,
                    retryDelay: configuration.watchRetryDelay
                ),
                logger: logger
            )
        }
        if pool.currentPool == nil {
            let servers = try location.endpoints(
                in: try await cache.snapshot(of: location),
                defaultPort: configuration.memcached.defaultPort
            )
            guard !servers.isEmpty else {
                throw BeaconError(.notFound, "no memcached server is published", key: location.description)
            }
            // Concurrent first callers may both get here: an unchanged list builds nothing.
            try pool.update(servers: servers)
        }
        return pool
    }

    /// A PostgreSQL pool whose connections go wherever a location says the database is, and follow it.
    ///
    /// One pool per location: later calls return the same pool. Connections are made on demand with the
    /// application's ``Configuration/database`` overrides (credentials) applied. The location is followed by a
    /// watch, so a new Patroni leader (or a changed key) is used as soon as it is published; a failed connection
    /// also rediscovers and retries, until the retry policy's deadline.
    /// The pool is closed when ``run()`` ends. Reading it does not mark the service being built for rebuild.
    ///
    /// - Parameter location: A key (JSON object or `postgresql://` URI), a prefix (one field per key) or a Patroni
    ///   leader; `nil` for ``Configuration/database``'s location.
    /// - Returns: The pool; no connection is made yet.
    /// - Throws: `BeaconError` with code `BeaconError.Code.unavailable` after ``close()``.
    public func database(_ location: DiscoveryLocation? = nil) throws -> PostgresConnectionPool {
        let location = location ?? configuration.database.location
        // The pool's run() follows its location: a new Patroni leader is used as soon as it is published.
        return try client(at: location, in: \.databases, what: "postgres") {
            PostgresConnectionPool(
                factory: PostgresConnectionFactory(
                    source: cache,
                    location: location,
                    overrides: configuration.database.overrides,
                    retryPolicy: configuration.database.retryPolicy,
                    logger: logger
                ),
                configuration: configuration.database.pool,
                logger: logger
            )
        }
    }

    /// The client kept for a location, made on first use and handed to ``run()`` to be run, once.
    private func client<Client: Service>(
        at location: DiscoveryLocation,
        in clients: WritableKeyPath<State, [DiscoveryLocation: Client]>,
        what: String,
        make: () -> Client
    ) throws(BeaconError) -> Client {
        let (client, isNew) = try state.withLock { state throws(BeaconError) in
            guard !state.isClosed else {
                throw BeaconError(.unavailable, "the discovery service is closed", key: location.description)
            }
            if let known = state[keyPath: clients][location] {
                return (known, false)
            }
            let made = make()
            state[keyPath: clients][location] = made
            return (made, true)
        }
        if isNew {
            submit(.run(what: "\(what) \(location)") { try await client.run() })
        }
        return client
    }
}
