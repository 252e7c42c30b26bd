// SPDX-License-Identifier: Apache-2.0

public import Beacon
public import BeaconCache
public import BeaconConsul
public import BeaconEtcd
public import BeaconMemcached
public import BeaconPostgres
public import BeaconZooKeeper

extension DiscoveryService {
    /// How a ``DiscoveryService`` caches, where its ready clients look by default, and how they are built.
    public struct Configuration: Sendable {
        /// The cache in front of the source: TTL, stale-if-error and so on. Default: `TTLCacheConfiguration`'s
        /// defaults.
        public var cache: TTLCacheConfiguration
        /// Key prefixes whose values never reach the cache directory, such as the key of discovered database
        /// parameters that carry a password: they are cached in memory only, and a cached prefix listing that holds
        /// one is not persisted at all. Only used with a cache directory. Default: none.
        public var excludedFromPersistence: [String]
        /// How long to wait before following a key or prefix again after its watch failed. Default: 1 second.
        public var watchRetryDelay: Duration
        /// The class name expressions see in error messages. Default: `DiscoveryService`.
        public var className: String
        /// What ``DiscoveryService/memcached(_:)`` and `getMemcached()` follow when no location is given.
        public var memcached: Memcached
        /// What ``DiscoveryService/database(_:)`` and `getDatabase()` follow when no location is given, and the
        /// application's credentials.
        public var database: Database
        /// For `etcd://` and `etcds://` URLs: credentials, TLS and timeouts (the endpoints come from the URL).
        /// Default: no credentials, the client's defaults.
        public var etcd: EtcdClient.Configuration
        /// For `zookeeper://` URLs: digest credentials, the ACL of created nodes, session and request timeouts (the
        /// servers and the chroot come from the URL). Default: no credentials, the client's defaults.
        public var zookeeper: ZooKeeperClient.Configuration
        /// For `consul://` and `consuls://` URLs: the ACL token, the datacenter, consistency, TLS and timeouts (the
        /// agents come from the URL; a URL never carries the token). Default: the agent's default token and
        /// datacenter, the client's defaults.
        public var consul: ConsulClient.Configuration

        /// Creates a configuration with every default.
        public init() {
            self.cache = TTLCacheConfiguration()
            self.excludedFromPersistence = []
            self.watchRetryDelay = .seconds(1)
            self.className = "DiscoveryService"
            self.memcached = Memcached()
            self.database = Database()
            self.etcd = EtcdClient.Configuration(endpoints: [])
            self.zookeeper = ZooKeeperClient.Configuration(servers: [])
            self.consul = ConsulClient.Configuration(agents: [])
        }
    }

    /// The default memcached location and how pools are built.
    public struct Memcached: Sendable {
        /// Where the server list lives. Default: the prefix `/memcached/servers/`, one server per key, each value
        /// endpoint text or `ServiceInstance` JSON.
        public var location: DiscoveryLocation
        /// How each pool is built (distribution, timeouts). Default: ketama, as PHP's `Memcached`.
        public var pool: MemcachedPool.Configuration
        /// The port of endpoints written without one. Default: 11211.
        public var defaultPort: Int

        /// Creates the defaults.
        public init(
            location: DiscoveryLocation = .prefix("/memcached/servers/"),
            pool: MemcachedPool.Configuration = MemcachedPool.Configuration(),
            defaultPort: Int = 11211
        ) {
            self.location = location
            self.pool = pool
            self.defaultPort = defaultPort
        }
    }

    /// The default database location, the application's credentials, and the pool's limits.
    public struct Database: Sendable {
        /// Where the database is published. Default: the key `/db/main`.
        public var location: DiscoveryLocation
        /// The application's own connection settings (user, password, database name, options), applied over what
        /// discovery publishes. A Patroni leader publishes no credentials: give them here. Default: none.
        public var overrides: PostgresConnectionFactory.Overrides
        /// The pool's limits. Default: `PostgresConnectionPool.Configuration`'s defaults.
        public var pool: PostgresConnectionPool.Configuration
        /// How connection attempts are retried. Default: at most 1 s between attempts, until 30 s have passed:
        /// long enough to cover a Patroni failover (its `ttl`, 30 s by default) or a restart.
        public var retryPolicy: PostgresRetryPolicy

        /// Creates the defaults.
        public init(
            location: DiscoveryLocation = .key("/db/main"),
            overrides: PostgresConnectionFactory.Overrides = PostgresConnectionFactory.Overrides(),
            pool: PostgresConnectionPool.Configuration = PostgresConnectionPool.Configuration(),
            retryPolicy: PostgresRetryPolicy = PostgresRetryPolicy(maximumBackoff: .seconds(1), deadline: .seconds(30))
        ) {
            self.location = location
            self.overrides = overrides
            self.pool = pool
            self.retryPolicy = retryPolicy
        }
    }
}
