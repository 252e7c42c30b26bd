// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconPostgres
import ExampleSupport
import Logging

/// The app's settings, from flags or the environment.
struct AppConfiguration: Sendable {
    static let options: [Option] = [
        Option(
            "etcd",
            environment: "BEACON_APP_ETCD",
            defaultValue: "127.0.0.1:23790",
            help: "etcd endpoints (host:port, comma-separated): discovery, and where the instance registers."
        ),
        Option(
            "wiring",
            environment: "BEACON_APP_WIRING",
            defaultValue: "dynamic",
            help: "dynamic: the cache and the database come through Beacon's discovery service (services.yaml); "
                + "fixed: clients built once from --memcached-servers and --db-endpoint (services-fixed.yaml), "
                + "the baseline of Benchmarks/app-wiring."
        ),
        Option(
            "services",
            environment: "BEACON_APP_SERVICES",
            help: "The services YAML file. Default: services.yaml beside the package's manifest (services-fixed.yaml "
                + "with --wiring fixed)."
        ),
        Option(
            "memcached-servers",
            environment: "BEACON_APP_MEMCACHED_SERVERS",
            help: "With --wiring fixed: the memcached servers (host:port, comma-separated); sets the YAML parameter "
                + "memcached_servers."
        ),
        Option(
            "db-endpoint",
            environment: "BEACON_APP_DB_ENDPOINT",
            help: "With --wiring fixed: the PostgreSQL server (host:port); sets the YAML parameter database_endpoint."
        ),
        Option(
            "database",
            environment: "BEACON_APP_DATABASE",
            help: "Where the database is published (a key, a prefix/, or patroni:/namespace/scope); sets the YAML "
                + "parameter database_location. Default: the YAML's value."
        ),
        Option(
            "db-user",
            environment: "BEACON_APP_DB_USER",
            help: "The PostgreSQL role, over what discovery publishes (a Patroni leader publishes none)."
        ),
        Option(
            "db-password",
            environment: "BEACON_APP_DB_PASSWORD",
            help: "The role's password; prefer the environment variable to the flag. Never printed.",
            isSecret: true
        ),
        Option(
            "db-name",
            environment: "BEACON_APP_DB_NAME",
            help: "The database, over what discovery publishes."
        ),
        Option(
            "cache-dir",
            environment: "BEACON_APP_CACHE_DIR",
            defaultValue: "",
            help: "A directory where the last discovered values persist (kernel.cache_dir); empty for none."
        ),
        Option("host", environment: "BEACON_APP_HOST", defaultValue: "127.0.0.1", help: "The address to listen on."),
        Option("port", environment: "BEACON_APP_PORT", defaultValue: "8080", help: "The port to listen on."),
        Option(
            "id",
            environment: "BEACON_APP_ID",
            help: "This instance's id in the registry. Default: app-<port>."
        ),
        Option(
            "service",
            environment: "BEACON_APP_SERVICE",
            defaultValue: "beacon-app",
            help: "The service name it registers under: /services/<service>/<id>."
        ),
        Option(
            "registration-ttl",
            environment: "BEACON_APP_REGISTRATION_TTL",
            defaultValue: "3",
            help: "Seconds the registration outlives the process if it dies without deregistering."
        ),
        Option(
            "drain-delay",
            environment: "BEACON_APP_DRAIN_DELAY",
            defaultValue: "2",
            help: "Seconds it keeps serving after deregistering on SIGTERM, for clients to notice."
        ),
        Option(
            "log-level",
            environment: "BEACON_APP_LOG_LEVEL",
            defaultValue: "info",
            help: "trace, debug, info, notice, warning, error or critical."
        ),
    ]

    /// How the app gets its cache and database clients.
    enum Wiring: String, Sendable {
        /// Through Beacon's discovery service, following what etcd publishes.
        case dynamic
        /// Built once from endpoints given on the command line.
        case fixed
    }

    /// A file beside this package's manifest, found from this source file.
    static func packageFile(_ name: String) -> String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/BeaconApp/AppConfiguration.swift
        return parts.joined(separator: "/") + "/" + name
    }

    var etcdEndpoints: [String]
    var wiring: Wiring
    var servicesFile: String
    /// With fixed wiring: the memcached servers and the PostgreSQL server, as given.
    var memcachedServers: String?
    var databaseEndpoint: String?
    var databaseLocation: String?
    /// The application's own connection settings, applied over what discovery publishes.
    var databaseOverrides: PostgresConnectionFactory.Overrides
    var cacheDirectory: String
    var host: String
    var port: Int
    var instanceID: String
    var serviceName: String
    var registrationTTL: Duration
    var drainDelay: Duration
    var logLevel: Logger.Level

    init(flags: Flags) throws {
        etcdEndpoints = try flags.require("etcd").split(separator: ",").map {
            String($0.trimmingPrefix("http://"))
        }
        let wiringText = try flags.require("wiring")
        guard let wiring = Wiring(rawValue: wiringText) else {
            throw FlagError("--wiring takes dynamic or fixed, not \"\(wiringText)\"")
        }
        self.wiring = wiring
        servicesFile =
            flags.string("services").flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.packageFile(wiring == .dynamic ? "services.yaml" : "services-fixed.yaml")
        memcachedServers = flags.string("memcached-servers").flatMap { $0.isEmpty ? nil : $0 }
        databaseEndpoint = flags.string("db-endpoint").flatMap { $0.isEmpty ? nil : $0 }
        databaseLocation = flags.string("database").flatMap { $0.isEmpty ? nil : $0 }
        databaseOverrides = PostgresConnectionFactory.Overrides(
            user: flags.string("db-user").flatMap { $0.isEmpty ? nil : $0 },
            password: flags.string("db-password").flatMap { $0.isEmpty ? nil : $0 },
            database: flags.string("db-name").flatMap { $0.isEmpty ? nil : $0 }
        )
        cacheDirectory = flags.string("cache-dir") ?? ""
        host = try flags.require("host")
        port = try flags.int("port")
        instanceID = flags.string("id").flatMap { $0.isEmpty ? nil : $0 } ?? "app-\(port)"
        serviceName = try flags.require("service")
        registrationTTL = try flags.seconds("registration-ttl")
        drainDelay = try flags.seconds("drain-delay")
        let level = try flags.require("log-level")
        guard let parsed = Logger.Level(rawValue: level) else {
            throw FlagError(
                "--log-level takes trace, debug, info, notice, warning, error or critical, not \"\(level)\""
            )
        }
        logLevel = parsed
        guard registrationTTL >= .seconds(1) else {
            throw FlagError("--registration-ttl is at least 1 second (etcd leases count whole seconds)")
        }
    }

    /// The discovery URL the YAML's `%discovery_service_endpoint%` is set to.
    var discoveryURL: String { "etcd://" + etcdEndpoints.joined(separator: ",") }

    /// This instance as the registry lists it.
    var instance: ServiceInstance {
        ServiceInstance(
            service: serviceName,
            id: instanceID,
            endpoint: Endpoint(host: host, port: port)
        )
    }
}
