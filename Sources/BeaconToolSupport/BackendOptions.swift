// SPDX-License-Identifier: Apache-2.0

package import ArgumentParser
package import Beacon
package import BeaconConsul
package import BeaconEtcd
package import BeaconZooKeeper
package import Logging
package import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The flags that say which discovery backend a tool talks to, how to authenticate, and how much to log; shared by
/// `beacon-register` and `beacon-confd`.
///
/// Include them in a command with `@OptionGroup var backend: BackendOptions`, then build the client with
/// ``makeBackend(sessionTimeout:logger:)`` (or ``makeEtcdClient(logger:)``, ``makeZooKeeperClient(sessionTimeout:logger:)``,
/// ``makeConsulClient(logger:)``) and the loggers with ``makeLogger(label:)``. The flags are confd's, with one dash or
/// two: `-backend etcdv3` (or `zookeeper`, `consul`), `-node URL` (or `host:port` for ZooKeeper; repeatable),
/// `-username`, `-password` (or the `BEACON_PASSWORD` environment variable, which `ps` does not show), `-token` (or
/// `BEACON_CONSUL_TOKEN`) and `-datacenter` (Consul only), `-client-cert`, `-client-key`, `-client-ca-keys` (etcd and
/// Consul), `-log-level`.
package struct BackendOptions: ParsableArguments {
    /// The environment variable read for the password when `-password` is not given.
    package static let passwordVariable = "BEACON_PASSWORD"

    /// The node used when no `-node` is given, as confd does for etcd.
    package static let defaultNode = "http://127.0.0.1:2379"

    /// The node used with `-backend zookeeper` when no `-node` is given, as confd does for ZooKeeper.
    package static let defaultZooKeeperNode = "127.0.0.1:2181"

    /// The node used with `-backend consul` when no `-node` is given: the local agent, as confd does for Consul.
    package static let defaultConsulNode = "http://127.0.0.1:8500"

    /// The environment variable read for Consul's ACL token when `-token` is not given.
    package static let tokenVariable = "BEACON_CONSUL_TOKEN"

    /// The backend's name: `etcdv3`, `zookeeper` or `consul`, or `file` and `env`, which can be read but not
    /// registered in.
    @Option(
        name: .confd("backend"),
        help: ArgumentHelp(
            "The discovery backend: etcdv3, zookeeper or consul, or for reading only file (with -file) or env."
        )
    )
    package var backend: String = "etcdv3"

    /// The backend's nodes: etcd members' or Consul agents' URLs, or ZooKeeper servers as `host:port`.
    @Option(
        name: .confd("node"),
        help: ArgumentHelp(
            "An etcd member's URL, such as http://127.0.0.1:2379, with -backend consul an agent's URL, such as "
                + "http://127.0.0.1:8500, or with -backend zookeeper a server's host:port, such as 127.0.0.1:2181; "
                + "repeat it for each member of a cluster (default: \(defaultNode), \(defaultConsulNode) for consul, "
                + "or \(defaultZooKeeperNode) for zookeeper).",
            valueName: "node"
        )
    )
    package var nodes: [String] = []

    /// Consul's ACL token; `nil` when not given on the command line.
    @Option(
        name: .confd("token"),
        help: ArgumentHelp(
            "Consul's ACL token. Prefer the \(tokenVariable) environment variable: `ps` shows command lines.",
            valueName: "token"
        )
    )
    package var token: String?

    /// The Consul datacenter to read and register in; `nil` for the agent's own.
    @Option(
        name: .confd("datacenter"),
        help: ArgumentHelp("The Consul datacenter to query (default: the agent's own).", valueName: "name")
    )
    package var datacenter: String?

    /// The user to authenticate as: etcd's user, or ZooKeeper's `digest` user.
    @Option(name: .confd("username"), help: "The user to authenticate as (etcd's user, or ZooKeeper's digest user).")
    package var username: String?

    /// The user's password; `nil` when not given on the command line.
    @Option(
        name: .confd("password"),
        help: ArgumentHelp(
            "The user's password. Prefer the \(passwordVariable) environment variable: `ps` shows command lines."
        )
    )
    package var password: String?

    /// A PEM client certificate for TLS.
    @Option(name: .confd("client-cert"), help: ArgumentHelp("A PEM client certificate, for TLS.", valueName: "path"))
    package var clientCert: String?

    /// The client certificate's PEM key.
    @Option(name: .confd("client-key"), help: ArgumentHelp("The client certificate's PEM key.", valueName: "path"))
    package var clientKey: String?

    /// PEM certificate authorities to trust instead of the system's.
    @Option(
        name: .confd("client-ca-keys"),
        help: ArgumentHelp("PEM certificate authorities to trust instead of the system's.", valueName: "path")
    )
    package var clientCAKeys: String?

    /// The lowest level logged: trace, debug, info, notice, warning, error or critical.
    @Option(
        name: .confd("log-level"),
        help: "The lowest level logged: trace, debug, info, notice, warning, error or critical."
    )
    package var logLevel: String = "info"

    /// Options with every default (as parsed from an empty command line).
    package init() {}

    /// Whether `-backend` names ZooKeeper.
    package var isZooKeeper: Bool { self.backend == "zookeeper" }

    /// Whether `-backend` names Consul.
    package var isConsul: Bool { self.backend == "consul" }

    /// The label of the backend client's logger: `beacon.zookeeper`, `beacon.consul` or `beacon.etcd`
    /// (`beacon.source` for a file or the environment).
    package var clientLoggerLabel: String {
        switch self.backend {
        case "zookeeper": "beacon.zookeeper"
        case "consul": "beacon.consul"
        case "file", "env": "beacon.source"
        default: "beacon.etcd"
        }
    }

    /// Checks the backend, its nodes and the log level.
    ///
    /// - Throws: `ValidationError` naming the flag at fault.
    package func validate() throws {
        switch self.backend {
        case "etcdv3", "etcd", "zookeeper", "consul", "file", "env":
            break
        default:
            throw ValidationError("-backend \(self.backend) is unknown: use etcdv3, zookeeper, consul, file or env")
        }
        if self.isConsul {
            guard self.username == nil, self.password == nil else {
                throw ValidationError(
                    "-username and -password are not Consul's: it authenticates with an ACL token, given with the "
                        + "\(Self.tokenVariable) environment variable (or -token)"
                )
            }
            for node in self.nodes where !Self.isHTTPURL(node) {
                throw ValidationError(
                    "-node \(Self.masked(node)) is not an agent's URL: Consul agents are written as "
                        + "http://127.0.0.1:8500 (or https://), with no user (the token comes from "
                        + "\(Self.tokenVariable) or -token)"
                )
            }
        } else if self.token != nil || self.datacenter != nil {
            throw ValidationError("-token and -datacenter are for -backend consul")
        }
        if self.isZooKeeper {
            guard self.clientCert == nil, self.clientKey == nil, self.clientCAKeys == nil else {
                throw ValidationError(
                    "-client-cert, -client-key and -client-ca-keys are for etcd: the ZooKeeper client has no TLS"
                )
            }
            for node in self.nodes where !Self.isHostAndPort(node) {
                throw ValidationError(
                    "-node \(Self.masked(node)) is not host:port: ZooKeeper nodes are written as 127.0.0.1:2181"
                )
            }
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError(
                "-log-level \(self.logLevel) is unknown: use trace, debug, info, notice, warning, error or critical"
            )
        }
        if self.password != nil && self.username == nil {
            throw ValidationError("-password needs -username")
        }
        if (self.clientCert == nil) != (self.clientKey == nil) {
            throw ValidationError("-client-cert and -client-key go together")
        }
    }

    /// A logger that writes to standard error at the level of `-log-level`, without bootstrapping the logging system.
    ///
    /// - Parameter label: The logger's label, such as `beacon-register` or `beacon.etcd`.
    /// - Returns: The logger.
    package func makeLogger(label: String) -> Logger {
        var logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        return logger
    }

    /// The user and password from `-username`, and `-password` or `BEACON_PASSWORD`; `nil` without `-username`.
    ///
    /// - Parameter environment: Where `BEACON_PASSWORD` is read when `-password` is not given.
    /// - Returns: The user and the password.
    /// - Throws: `ValidationError` when a user is given without any password.
    private func credentials(environment: [String: String]) throws -> (username: String, password: String)? {
        guard let username = self.username else { return nil }
        guard let password = self.password ?? environment[Self.passwordVariable] else {
            throw ValidationError("-username needs -password or the \(Self.passwordVariable) environment variable")
        }
        return (username, password)
    }

    /// The etcd client's configuration from the flags.
    ///
    /// - Parameter environment: Where `BEACON_PASSWORD` is read when `-password` is not given.
    /// - Returns: The configuration: nodes, credentials and TLS.
    /// - Throws: `ValidationError` when a user is given without any password.
    package func makeEtcdConfiguration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> EtcdClient.Configuration {
        var configuration = EtcdClient.Configuration(endpoints: self.nodes.isEmpty ? [Self.defaultNode] : self.nodes)
        if let user = try self.credentials(environment: environment) {
            configuration.credentials = EtcdClient.Credentials(username: user.username, password: user.password)
        }
        configuration.tls = EtcdClient.TLS(
            caBundlePath: self.clientCAKeys,
            certificatePath: self.clientCert,
            privateKeyPath: self.clientKey
        )
        return configuration
    }

    /// An etcd client configured from the flags; run it as a service (it keeps registrations alive).
    ///
    /// - Parameter logger: Where the client logs.
    /// - Returns: The client.
    /// - Throws: `ValidationError` for inconsistent flags; `EtcdError` for a node that is not an http(s) URL.
    package func makeEtcdClient(logger: Logger) throws -> EtcdClient {
        try EtcdClient(configuration: self.makeEtcdConfiguration(), logger: logger)
    }

    /// The ZooKeeper client's configuration from the flags.
    ///
    /// - Parameters:
    ///   - sessionTimeout: The session timeout, which bounds how long the client's ephemeral nodes outlive a killed
    ///     process (beacon-register's `-ttl`); `nil` for the client's default (10 seconds).
    ///   - environment: Where `BEACON_PASSWORD` is read when `-password` is not given.
    /// - Returns: The configuration: servers (`-node`, by default `127.0.0.1:2181`) and digest credentials.
    /// - Throws: `ValidationError` when a user is given without any password.
    package func makeZooKeeperConfiguration(
        sessionTimeout: Duration? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ZooKeeperClient.Configuration {
        var configuration = ZooKeeperClient.Configuration(
            servers: self.nodes.isEmpty ? [Self.defaultZooKeeperNode] : self.nodes
        )
        if let user = try self.credentials(environment: environment) {
            configuration.credentials = ZooKeeperClient.DigestCredentials(
                username: user.username,
                password: user.password
            )
        }
        if let sessionTimeout {
            configuration.sessionTimeout = sessionTimeout
        }
        return configuration
    }

    /// The Consul client's configuration from the flags.
    ///
    /// - Parameter environment: Where `BEACON_CONSUL_TOKEN` is read when `-token` is not given.
    /// - Returns: The configuration: agents (`-node`, by default the local agent), token, datacenter and TLS.
    package func makeConsulConfiguration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ConsulClient.Configuration {
        let token = self.token ?? environment[Self.tokenVariable]
        return ConsulClient.Configuration(
            agents: self.nodes.isEmpty ? [Self.defaultConsulNode] : self.nodes,
            token: token.flatMap { $0.isEmpty ? nil : ConsulClient.Token($0) },
            datacenter: self.datacenter,
            tls: ConsulClient.TLS(
                caBundlePath: self.clientCAKeys,
                certificatePath: self.clientCert,
                privateKeyPath: self.clientKey
            )
        )
    }

    /// A Consul client configured from the flags; run it as a service (it passes its registrations' TTL checks, and
    /// deregisters them when it stops).
    ///
    /// - Parameter logger: Where the client logs.
    /// - Returns: The client.
    /// - Throws: `ConsulError` for a node that is not an http(s) URL.
    package func makeConsulClient(logger: Logger) throws -> ConsulClient {
        try ConsulClient(configuration: self.makeConsulConfiguration(), logger: logger)
    }

    /// A ZooKeeper client configured from the flags; run it as a service (it re-creates ephemeral nodes after a
    /// session expiry, and deletes them and ends the session when it stops).
    ///
    /// - Parameters:
    ///   - sessionTimeout: The session timeout; `nil` for the client's default.
    ///   - logger: Where the client logs.
    /// - Returns: The client.
    /// - Throws: `ValidationError` for inconsistent flags; `ZooKeeperError` for a configuration the client refuses.
    package func makeZooKeeperClient(sessionTimeout: Duration? = nil, logger: Logger) throws -> ZooKeeperClient {
        try ZooKeeperClient(
            configuration: self.makeZooKeeperConfiguration(sessionTimeout: sessionTimeout),
            logger: logger
        )
    }

    /// The client of the backend chosen with `-backend`, as the protocols every backend shares; run it as a service.
    ///
    /// Cast it (`as? any EphemeralKeyStore`) for what only some backends offer. Both etcd and ZooKeeper clients are
    /// ephemeral key stores; the Consul client is not (Consul's KV entries outlive their writer).
    ///
    /// - Parameters:
    ///   - sessionTimeout: For ZooKeeper, the session timeout, which plays the part of etcd's lease TTL: how long
    ///     registrations outlive a killed process. `nil` for the client's default. Not used for etcd and Consul,
    ///     whose TTL is given with each registration.
    ///   - logger: Where the client logs.
    /// - Returns: The client.
    /// - Throws: `ValidationError` for inconsistent flags, an unknown backend, or one that can only be read;
    ///   the backend's error for a node it cannot use.
    package func makeBackend(
        sessionTimeout: Duration? = nil,
        logger: Logger
    ) throws -> any DiscoverySource & ServiceRegistry & Service {
        try self.validate()
        switch self.backend {
        case "etcdv3", "etcd":
            return try self.makeEtcdClient(logger: logger)
        case "zookeeper":
            return try self.makeZooKeeperClient(sessionTimeout: sessionTimeout, logger: logger)
        case "consul":
            return try self.makeConsulClient(logger: logger)
        default:
            throw ValidationError(
                "-backend \(self.backend) can be read, not registered in: use etcdv3, zookeeper or consul"
            )
        }
    }

    /// The source to read keys from, for tools that only read (beacon-confd), with the service that must run
    /// beside it (the etcd, ZooKeeper or Consul client), if any. The etcd, ZooKeeper and Consul clients are also
    /// service registries, whose services a resource can name.
    ///
    /// - Parameters:
    ///   - file: The file of `-backend file` (YAML or JSON, re-read when it changes).
    ///   - logger: Where the client logs.
    /// - Returns: The source, and the service to run for it (`nil` for `file` and `env`).
    /// - Throws: `ValidationError` for inconsistent flags; `BeaconError` naming the file when it cannot be read or
    ///   parsed; the backend's error for a node it cannot use.
    package func makeSource(
        file: String?,
        logger: Logger
    ) throws -> (source: any DiscoverySource, service: (any Service)?) {
        try self.validate()
        switch self.backend {
        case "file":
            guard let file else { throw ValidationError("-backend file needs -file PATH") }
            return (try FileSource(path: file, logger: logger), nil)
        case "env":
            return (EnvironmentSource(), nil)
        case "zookeeper":
            let client = try self.makeZooKeeperClient(logger: logger)
            return (client, client)
        case "consul":
            let client = try self.makeConsulClient(logger: logger)
            return (client, client)
        default:
            let client = try self.makeEtcdClient(logger: logger)
            return (client, client)
        }
    }

    /// Whether a ZooKeeper node is `host:port` with a port from 1 to 65535.
    private static func isHostAndPort(_ node: String) -> Bool {
        guard !node.contains("/"), !node.contains("@"), let colon = node.lastIndex(of: ":"), colon != node.startIndex,
            let port = Int(node[node.index(after: colon)...])
        else { return false }
        return (1...65_535).contains(port)
    }

    /// Whether a Consul node is an `http://` or `https://` URL with a host and no user information.
    private static func isHTTPURL(_ node: String) -> Bool {
        guard let scheme = node.firstRange(of: "://") else { return false }
        let name = node[..<scheme.lowerBound].lowercased()
        let authority = node[scheme.upperBound...].prefix { $0 != "/" }
        return (name == "http" || name == "https") && !authority.isEmpty && !authority.contains("@")
    }

    /// A node as errors show it: user information (`user:password@`) masked.
    private static func masked(_ node: String) -> String {
        guard let at = node.lastIndex(of: "@") else { return node }
        let scheme = node.firstRange(of: "://").map { String(node[..<$0.upperBound]) } ?? ""
        return scheme + "********" + String(node[at...])
    }
}
