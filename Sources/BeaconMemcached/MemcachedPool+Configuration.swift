// SPDX-License-Identifier: Apache-2.0

extension MemcachedPool {
    /// How a ``MemcachedPool`` works: the distribution, timeouts, failure handling and key prefix, set once.
    ///
    /// The defaults put every key on the same server as PHP's `Memcached` with
    /// `OPT_DISTRIBUTION = DISTRIBUTION_CONSISTENT`, given the same server list in the same order (see
    /// Documentation/Memcached.md for the PHP side).
    ///
    /// ```swift
    /// var configuration = MemcachedPool.Configuration()
    /// configuration.libketamaCompatible = true
    /// configuration.keyPrefix = "app:"
    /// let servers = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211")
    /// let pool = try MemcachedPool(servers: servers, configuration: configuration, logger: logger)
    /// ```
    public struct Configuration: Sendable {
        /// How keys are assigned to servers. Default: ``MemcachedDistribution/consistent``.
        public var distribution: MemcachedDistribution
        /// PHP's `OPT_LIBKETAMA_COMPATIBLE`: weighted ketama with MD5 key hashing, compatible with libketama and
        /// most other ketama clients. Only used with ``MemcachedDistribution/consistent``. Default: `false`.
        public var libketamaCompatible: Bool
        /// How long to wait for a TCP connection to a server. Default: 1 second.
        public var connectTimeout: Duration
        /// How long to wait for a server's socket to become readable or writable. Default: 1 second.
        public var pollTimeout: Duration
        /// The socket send timeout (`SO_SNDTIMEO`), or `nil` for the system's. Default: `nil`.
        public var sendTimeout: Duration?
        /// The socket receive timeout (`SO_RCVTIMEO`), or `nil` for the system's. Default: `nil`.
        public var receiveTimeout: Duration?
        /// Speaks memcached's binary protocol instead of the ASCII one, which lets keys contain spaces and control
        /// bytes (see ``MemcachedError/Code/invalidKey``). Default: `false`.
        public var binaryProtocol: Bool
        /// Sets `TCP_NODELAY` on the connections. Default: `true`.
        public var tcpNoDelay: Bool
        /// How many consecutive failures mark a server dead for ``retryTimeout``. Default: 2.
        ///
        /// Two kinds of failure count: failed connects, counted by libmemcached in each connection, and timeouts
        /// on open connections (a hung server still accepts connections), counted by the pool for all its
        /// connections: after this many in a row, operations on the server's keys fail at once with
        /// ``MemcachedError/Code/unavailable`` (or move, with ``removeFailedServers``) until one probe, let
        /// through after ``retryTimeout``, is answered.
        public var failureLimit: Int
        /// How long a server marked dead is left alone before it is tried again. Default: 2 seconds. libmemcached
        /// rounds it up to whole seconds; the pool's timeout count uses it as given.
        public var retryTimeout: Duration
        /// What happens to the keys of a server marked dead: `true` removes it from the ring, so its keys move to the
        /// other servers until it is retried (PHP's `OPT_REMOVE_FAILED_SERVERS`); `false` (the default) keeps it, so
        /// operations on its keys fail fast with ``MemcachedError/Code/unavailable`` while the others are unaffected.
        public var removeFailedServers: Bool
        /// A prefix put in front of every key on the wire (PHP's `OPT_PREFIX_KEY`), at most 127 bytes. It does not
        /// change which server a key maps to. It counts in the 250 bytes memcached takes in a key: with a prefix of
        /// `n` bytes, keys have at most `250 - n` (see ``MemcachedError/Code/invalidKey``). Default: `nil`.
        public var keyPrefix: String?
        /// The most connections (libmemcached handles) per pool; also the number of worker threads the pool starts
        /// for the `async` API when ``workerThreads`` is `nil`. Default: 4.
        public var maxConnections: Int
        /// How long an operation waits for a free connection before it throws ``MemcachedError/Code/poolExhausted``.
        /// Default: 1 second.
        public var acquireTimeout: Duration
        /// The threads that run the `async` API, shared with other pools, or `nil` (the default) for threads of the
        /// pool's own: ``maxConnections`` of them, started with the pool and stopped when it is closed. A shared group
        /// belongs to whoever made it: pools never close it (see ``MemcachedWorkerThreads``). A
        /// ``DynamicMemcachedPool`` with `nil` here makes one group of ``maxConnections`` threads for all the pools it
        /// builds.
        public var workerThreads: MemcachedWorkerThreads?

        /// Creates a configuration; every parameter has the default documented on its property.
        ///
        /// - Parameters:
        ///   - distribution: How keys are assigned to servers.
        ///   - libketamaCompatible: Weighted ketama with MD5 key hashing (PHP's `OPT_LIBKETAMA_COMPATIBLE`).
        ///   - connectTimeout: The TCP connect timeout.
        ///   - pollTimeout: The socket poll timeout.
        ///   - sendTimeout: The socket send timeout.
        ///   - receiveTimeout: The socket receive timeout.
        ///   - binaryProtocol: Use the binary protocol.
        ///   - tcpNoDelay: Set `TCP_NODELAY`.
        ///   - failureLimit: Consecutive failures that mark a server dead.
        ///   - retryTimeout: How long a dead server is left alone.
        ///   - removeFailedServers: Whether a dead server's keys move to other servers.
        ///   - keyPrefix: A prefix for every key on the wire.
        ///   - maxConnections: The most connections per pool.
        ///   - acquireTimeout: How long to wait for a free connection.
        ///   - workerThreads: Worker threads shared with other pools, or `nil` for the pool's own.
        public init(
            distribution: MemcachedDistribution = .consistent,
            libketamaCompatible: Bool = false,
            connectTimeout: Duration = .seconds(1),
            pollTimeout: Duration = .seconds(1),
            sendTimeout: Duration? = nil,
            receiveTimeout: Duration? = nil,
            binaryProtocol: Bool = false,
            tcpNoDelay: Bool = true,
            failureLimit: Int = 2,
            retryTimeout: Duration = .seconds(2),
            removeFailedServers: Bool = false,
            keyPrefix: String? = nil,
            maxConnections: Int = 4,
            acquireTimeout: Duration = .seconds(1),
            workerThreads: MemcachedWorkerThreads? = nil
        ) {
            self.distribution = distribution
            self.libketamaCompatible = libketamaCompatible
            self.connectTimeout = connectTimeout
            self.pollTimeout = pollTimeout
            self.sendTimeout = sendTimeout
            self.receiveTimeout = receiveTimeout
            self.binaryProtocol = binaryProtocol
            self.tcpNoDelay = tcpNoDelay
            self.failureLimit = failureLimit
            self.retryTimeout = retryTimeout
            self.removeFailedServers = removeFailedServers
            self.keyPrefix = keyPrefix
            self.maxConnections = maxConnections
            self.acquireTimeout = acquireTimeout
            self.workerThreads = workerThreads
        }
    }
}
