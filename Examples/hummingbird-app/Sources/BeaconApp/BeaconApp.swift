// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconContainer
import BeaconDiscovery
import BeaconEtcd
import BeaconExpression
import BeaconMemcached
import BeaconPostgres
import ExampleSupport
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// beacon-app: the story's server app.
///
/// Its services come from services.yaml through Beacon's discovery service; it registers itself in etcd once ready,
/// and drains on SIGTERM. One `ServiceGroup` runs everything.
@main
enum BeaconApp {
    static func main() async {
        let flags: Flags
        let configuration: AppConfiguration
        do {
            flags = try Flags(
                options: AppConfiguration.options,
                arguments: Array(CommandLine.arguments.dropFirst()),
                environment: ProcessInfo.processInfo.environment
            )
            if flags.wantsHelp {
                print(flags.help(usage: "beacon-app [OPTIONS]", about: about))
                return
            }
            configuration = try AppConfiguration(flags: flags)
        } catch {
            FileHandle.standardError.write(Data("beacon-app: \(error)\n".utf8))
            exit(2)
        }
        do {
            try await run(configuration, flags: flags)
        } catch {
            FileHandle.standardError.write(Data("beacon-app: \(error)\n".utf8))
            exit(1)
        }
    }

    static let about = """
        Serves items read through memcached from PostgreSQL, both found through Beacon from services.yaml, registers
        itself in etcd under /services/<service>/<id> once ready, and drains on SIGTERM: it deregisters, serves for
        the drain delay, stops accepting, finishes the requests in flight and exits 0. With --wiring fixed, the same
        app builds its clients once from fixed endpoints (services-fixed.yaml) instead.
        """

    static func run(_ configuration: AppConfiguration, flags: Flags) async throws {
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var logger = Logger(label: "beacon-app")
        logger[metadataKey: "app.id"] = "\(configuration.instanceID)"
        logger.info("starting", metadata: ["app.options": "\(flags.summary)"])

        // The container, from services.yaml: the discovery service and what it builds.
        var builder = ContainerBuilder()
        var discovery = DiscoveryService.Configuration()
        discovery.database.overrides = configuration.databaseOverrides
        builder.registerDiscoveryService(
            named: "DynamicConfigurationService",
            configuration: discovery,
            logger: logger.with(label: "beacon.discovery")
        )
        builder.registerFactory("ItemCache") { arguments in
            ItemCache(pool: try arguments.service(0, as: (any MemcachedClient).self))
        }
        builder.registerFactory("ItemStore") { [logger] arguments in
            ItemStore(pool: try arguments.service(0, as: PostgresConnectionPool.self), logger: logger)
        }
        builder.registerFactory("ItemRepository") { [logger] arguments in
            ItemRepository(
                cache: try arguments.service(0, as: ItemCache.self),
                store: try arguments.service(1, as: ItemStore.self),
                logger: logger
            )
        }
        // services-fixed.yaml's clients, built once from fixed endpoints with the discovery service's settings: the
        // baseline the dynamic wiring is measured against (Benchmarks/app-wiring).
        builder.registerFactory("MemcachedPool") { [logger, discovery] arguments in
            let servers = try Endpoint.list(
                parsing: try arguments.string(0),
                defaultPort: discovery.memcached.defaultPort
            )
            return try MemcachedPool(servers: servers, configuration: discovery.memcached.pool, logger: logger)
        }
        builder.registerFactory("PostgresConnectionPool") { [logger, discovery] arguments in
            // The parameters never change: a static source that the factory reads through its cache.
            let source = CachingSource(StaticSource(["/db/fixed/host": try arguments.string(0)]))
            let factory = PostgresConnectionFactory(
                source: source,
                location: .prefix("/db/fixed/"),
                overrides: discovery.database.overrides,
                retryPolicy: discovery.database.retryPolicy,
                logger: logger
            )
            return PostgresConnectionPool(factory: factory, configuration: discovery.database.pool, logger: logger)
        }
        try builder.loadYAML(file: configuration.servicesFile)
        // The YAML's parameters are defaults; the command line and the environment come after them.
        switch configuration.wiring {
        case .dynamic:
            builder.setParameter("discovery_service_endpoint", .string(configuration.discoveryURL))
            builder.setParameter("kernel.cache_dir", .string(configuration.cacheDirectory))
            if let location = configuration.databaseLocation {
                builder.setParameter("database_location", .string(location))
            }
        case .fixed:
            if let servers = configuration.memcachedServers {
                builder.setParameter("memcached_servers", .string(servers))
            }
            if let endpoint = configuration.databaseEndpoint {
                builder.setParameter("database_endpoint", .string(endpoint))
            }
        }
        let container = try builder.build()

        // The etcd client the instance registers with.
        let etcd = try EtcdClient(
            configuration: EtcdClient.Configuration(endpoints: configuration.etcdEndpoints.map { "http://\($0)" }),
            logger: logger.with(label: "beacon.etcd")
        )

        let state = AppState(configuration: configuration)
        let readiness = Readiness(container: container, logger: logger)
        let router = Router()
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(LogRequestsMiddleware(.debug))
        Routes(container: container, state: state, registry: registry, logger: logger).add(to: router)
        let server = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "beacon-app"
            ),
            logger: logger
        )

        // Shut down in reverse order: the registrar drains first, then the server finishes its requests, then the
        // container closes the pools, and the etcd client (which keeps the registration alive) stops last.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: etcd),
                    .init(service: container),
                    .init(service: server),
                    .init(service: PoolObserver(readiness: readiness, state: state)),
                    .init(service: Registrar(registry: etcd, readiness: readiness, state: state, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("stopped")
    }
}

extension Logger {
    /// The same handler and metadata under another label.
    fileprivate func with(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        logger[metadataKey: "app.id"] = self[metadataKey: "app.id"]
        return logger
    }
}
