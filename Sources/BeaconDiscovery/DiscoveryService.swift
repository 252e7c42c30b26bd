// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconCache
public import BeaconContainer
import BeaconLocks
import BeaconMemcached
import BeaconPostgres
public import Logging
public import ServiceLifecycle

/// The discovery service of a container: where services defined in YAML or code read discovered values and
/// get clients that follow their backends.
///
/// It is the story's `myapp.dynamic.configuration`: a Symfony-style definition names it, and expressions call it.
///
/// ```yaml
/// services:
///     session.handler.memcache:
///         class: MemcachedSessionHandler
///         arguments: ["@=service('myapp.dynamic.configuration').getMemcached()"]
///     myapp.dynamic.configuration:
///         class: DiscoveryService
///         arguments: ['%discovery_service_endpoint%', '%kernel.cache_dir%']
/// ```
///
/// Two kinds of methods:
/// - **Raw values**: ``get(_:)``, ``endpoint(_:defaultPort:)``, ``endpoints(_:defaultPort:)`` and
///   ``instances(of:)``. A service whose construction read a value through them is rebuilt when that value
///   changes: each key or prefix read is followed by one watch, shared by every service that read it, and only a
///   change of what a service read rebuilds it. Values are read through a short-TTL cache, persisted in the cache
///   directory when one is given.
/// - **Ready clients**: ``memcached(_:)`` returns a ketama pool that swaps its servers when they change, and
///   ``database(_:)`` a PostgreSQL pool that follows the database. They follow by themselves, so reading them
///   does not mark the service that asked for rebuild: one server change costs one watch and one pool swap.
///
/// The service is a swift-service-lifecycle `Service`: ``run()`` drives every watch and pool it created. A
/// container runs the services it builds, so one defined in a container needs nothing more; one made in code
/// goes in the application's `ServiceGroup`. When ``run()`` ends, the pools are closed.
public final class DiscoveryService: Service, ClosableService, Sendable {
    /// What the service was configured with.
    public let configuration: Configuration
    /// The cache every read goes through.
    let cache: CachingSource<ErasedSource>
    let logger: Logger
    /// The client this service created from its URL (etcd, ZooKeeper or Consul), which it runs and closes; `nil` for
    /// a file or a source given in code.
    private let ownedClient: OwnedClient?
    let state = Lock(State())
    private let jobs: AsyncStream<Job>
    private let jobQueue: AsyncStream<Job>.Continuation

    struct State {
        var followed: [DiscoveryLocation: FollowedValue] = [:]
        var memcached: [DiscoveryLocation: DynamicMemcachedPool] = [:]
        var databases: [DiscoveryLocation: PostgresConnectionPool] = [:]
        var isRunning = false
        var isClosed = false
    }

    /// Long-running work for ``run()``.
    enum Job: Sendable {
        case follow(FollowedValue)
        case run(what: String, body: @Sendable () async throws -> Void)
    }

    /// Creates a service over the source a URL names.
    ///
    /// - Parameters:
    ///   - url: `etcd://host:port[,host:port...]` (`etcds://` for TLS),
    ///     `zookeeper://host:port[,host:port...][/chroot]`, `consul://host:port[,host:port...]` (`consuls://` for TLS)
    ///     or `file:///path/to/services.yaml` (JSON or YAML, re-read when it changes). Credentials never go in the
    ///     URL: they come from `configuration` (``Configuration/etcd``, ``Configuration/zookeeper``, and
    ///     ``Configuration/consul`` for Consul's ACL token and datacenter).
    ///   - cacheDirectory: A directory in which the last good values persist across restarts, or `nil` (or empty)
    ///     for none.
    ///   - configuration: Caching, default locations, credentials.
    ///   - logger: Where changes (info), failed watches (info) and reads (debug) are logged. Never a secret.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` naming the URL when its scheme is
    ///   unknown or its endpoints (or chroot) do not parse, or when it carries user information (masked in the
    ///   error); the source's error when it cannot be created (a file that cannot be read or parsed, an etcd,
    ///   ZooKeeper or Consul configuration the client refuses).
    public convenience init(
        url: String,
        cacheDirectory: String? = nil,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.discovery", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        let (source, client) = try DiscoveryURL.makeSource(url, configuration: configuration, logger: logger)
        self.init(
            source: source,
            owning: client,
            cacheDirectory: cacheDirectory,
            configuration: configuration,
            logger: logger
        )
    }

    /// Creates a service over a source made in code (a `StaticSource` in tests, a client you configured).
    ///
    /// The source stays the caller's: the service does not run or shut it down.
    ///
    /// - Parameters:
    ///   - source: Where values are read.
    ///   - cacheDirectory: A directory in which the last good values persist across restarts, or `nil` for none.
    ///   - configuration: Caching, default locations, credentials.
    ///   - logger: Where changes (info), failed watches (info) and reads (debug) are logged. Never a secret.
    public convenience init(
        source: any DiscoverySource,
        cacheDirectory: String? = nil,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.discovery", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(
            source: source,
            owning: nil,
            cacheDirectory: cacheDirectory,
            configuration: configuration,
            logger: logger
        )
    }

    private init(
        source: any DiscoverySource,
        owning ownedClient: OwnedClient?,
        cacheDirectory: String?,
        configuration: Configuration,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.ownedClient = ownedClient
        let directory = cacheDirectory.flatMap { $0.isEmpty ? nil : $0 }
        self.cache = CachingSource(
            ErasedSource(base: source),
            configuration: configuration.cache,
            logger: logger,
            persistenceDirectory: directory,
            excludedFromPersistence: configuration.excludedFromPersistence
        )
        (self.jobs, self.jobQueue) = AsyncStream.makeStream(of: Job.self)
    }

    // MARK: Lifecycle

    /// Follows every key, prefix and pool this service created, until graceful shutdown or cancellation; then
    /// closes the pools (and the etcd, ZooKeeper or Consul client, when the service created it from its URL: the
    /// client runs beside the watches, and is closed when they stop).
    ///
    /// Keys and pools created before ``run()`` starts are followed from when it starts. It never returns earlier,
    /// so it can be a service of a `ServiceGroup`. Run it once.
    public func run() async {
        let alreadyRunning = state.withLock { state in
            defer { state.isRunning = true }
            return state.isRunning
        }
        precondition(!alreadyRunning, "DiscoveryService.run() must be called only once")
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                if let ownedClient {
                    group.addTask { await ownedClient.run() }
                }
                group.addTask { await self.cache.run() }
                for await job in jobs {
                    switch job {
                    case .follow(let followed):
                        group.addTask { await self.follow(followed) }
                    case .run(let what, let body):
                        group.addTask { [logger] in
                            do {
                                try await body()
                            } catch {
                                logger.info(
                                    "a discovered client stopped",
                                    metadata: ["beacon.discovery.client": "\(what)", "beacon.error": "\(error)"]
                                )
                            }
                        }
                    }
                }
                group.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            self.jobQueue.finish()
        }
        await close()
    }

    /// Closes what the service owns, now: every pool it created (operations in progress finish, later ones throw
    /// their module's closed error), the etcd, ZooKeeper or Consul client it made from its URL, and ``run()`` if it
    /// runs.
    /// Later reads of values already followed still answer; new clients throw. Idempotent.
    ///
    /// It suspends for a ZooKeeper client, whose session it ends before it returns (waiting for the ensemble's
    /// answer on a thread of its own, at most a few seconds when no server answers), and, with a cache directory,
    /// until the values not yet written there are (on the cache's own writer thread). ``run()`` calls it when it
    /// ends; call it yourself for a service that never ran.
    public func close() async {
        let (memcached, databases) = state.withLock { state in
            state.isClosed = true
            defer {
                state.memcached = [:]
                state.databases = [:]
            }
            return (Array(state.memcached.values), Array(state.databases.values))
        }
        for pool in memcached {
            pool.close()
        }
        for pool in databases {
            pool.close()
        }
        jobQueue.finish()
        await ownedClient?.close()
        await cache.flush()
    }

    /// Hands long-running work to ``run()``.
    func submit(_ job: Job) {
        jobQueue.yield(job)
    }

    // MARK: Following values

    /// The followed value of a location (a key, a prefix or a service), created (and handed to ``run()`` to be
    /// watched) on first use.
    func followed(_ location: DiscoveryLocation) -> FollowedValue {
        let (value, isNew) = state.withLock { state in
            if let known = state.followed[location] {
                return (known, false)
            }
            let made = FollowedValue(location)
            state.followed[location] = made
            return (made, true)
        }
        if isNew {
            submit(.follow(value))
        }
        return value
    }

    /// The entries of a location, read through the cache the first time (a service's instances from the registry),
    /// and recorded as read by the construction running in this task.
    func entries(of location: DiscoveryLocation) async throws -> [KeyValue] {
        let value = followed(location)
        if let known = value.read() {
            return known
        }
        let read = try await cache.snapshot(of: location).entries
        logger.debug("discovered value read", metadata: ["beacon.discovery.key": "\(location)"])
        return value.storeFirstRead(read)
    }

    /// Watches one location until cancelled, rebuilding its readers on each change; retries after failures.
    private func follow(_ value: FollowedValue) async {
        while !Task.isCancelled {
            do {
                for try await snapshot in cache.watch(value.location) {
                    if value.update(value.entries(in: snapshot)) {
                        logger.info(
                            "discovered value changed; services that read it are rebuilt",
                            metadata: [
                                "beacon.discovery.key": "\(value.location)",
                                "beacon.discovery.readers": "\(value.input.readerCount)",
                            ]
                        )
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.info(
                    "following a discovered value failed; retrying",
                    metadata: ["beacon.discovery.key": "\(value.location)", "beacon.error": "\(error)"]
                )
            }
            try? await Task.sleep(for: configuration.watchRetryDelay)
        }
    }
}
