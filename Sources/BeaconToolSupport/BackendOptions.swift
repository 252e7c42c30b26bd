// SPDX-License-Identifier: Apache-2.0

package import ArgumentParser
package import Beacon
package import BeaconEtcd
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
/// ``makeBackend(logger:)`` (or ``makeEtcdClient(logger:)``) and the loggers with ``makeLogger(label:)``. The flags
/// are confd's, with one dash or two: `-backend etcdv3`, `-node URL` (repeatable), `-username`, `-password` (or the
/// `BEACON_PASSWORD` environment variable, which `ps` does not show), `-client-cert`, `-client-key`,
/// `-client-ca-keys`, `-log-level`.
package struct BackendOptions: ParsableArguments {
    /// The environment variable read for the password when `-password` is not given.
    package static let passwordVariable = "BEACON_PASSWORD"

    /// The node used when no `-node` is given, as confd does for etcd.
    package static let defaultNode = "http://127.0.0.1:2379"

    /// The backend's name: `etcdv3`, or `file` and `env`, which can be read but not registered in. `zookeeper` and
    /// `consul` are recognized but not in this build yet.
    @Option(
        name: .confd("backend"),
        help: ArgumentHelp(
            "The discovery backend: etcdv3, or for reading only file (with -file) or env (zookeeper and consul are not "
                + "in this build yet)."
        )
    )
    package var backend: String = "etcdv3"

    /// The backend's nodes.
    @Option(
        name: .confd("node"),
        help: ArgumentHelp(
            "A node's URL, such as http://127.0.0.1:2379; repeat it for each member of a cluster (default: \(defaultNode)).",
            valueName: "url"
        )
    )
    package var nodes: [String] = []

    /// The user to authenticate as.
    @Option(name: .confd("username"), help: "The user to authenticate as.")
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

    /// Checks the backend and the log level.
    ///
    /// - Throws: `ValidationError` naming the flag at fault.
    package func validate() throws {
        switch self.backend {
        case "etcdv3", "etcd", "file", "env":
            break
        case "zookeeper", "consul":
            throw ValidationError("-backend \(self.backend) is not in this build yet: use etcdv3, file or env")
        default:
            throw ValidationError("-backend \(self.backend) is unknown: use etcdv3, file or env")
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

    /// The etcd client's configuration from the flags.
    ///
    /// - Parameter environment: Where `BEACON_PASSWORD` is read when `-password` is not given.
    /// - Returns: The configuration: nodes, credentials and TLS.
    /// - Throws: `ValidationError` when a user is given without any password.
    package func makeEtcdConfiguration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> EtcdClient.Configuration {
        var configuration = EtcdClient.Configuration(endpoints: self.nodes.isEmpty ? [Self.defaultNode] : self.nodes)
        if let username = self.username {
            guard let password = self.password ?? environment[Self.passwordVariable] else {
                throw ValidationError("-username needs -password or the \(Self.passwordVariable) environment variable")
            }
            configuration.credentials = EtcdClient.Credentials(username: username, password: password)
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

    /// The client of the backend chosen with `-backend`, as the protocols every backend shares; run it as a service.
    ///
    /// Cast it (`as? any EphemeralKeyStore`) for what only some backends offer.
    ///
    /// - Parameter logger: Where the client logs.
    /// - Returns: The client.
    /// - Throws: `ValidationError` for inconsistent flags or a backend not in this build; the backend's error for
    ///   a node it cannot use.
    package func makeBackend(logger: Logger) throws -> any DiscoverySource & ServiceRegistry & Service {
        try self.validate()
        guard self.backend == "etcdv3" || self.backend == "etcd" else {
            throw ValidationError("-backend \(self.backend) can be read, not registered in: use etcdv3")
        }
        return try self.makeEtcdClient(logger: logger)
    }

    /// The source to read keys from, for tools that only read (beacon-confd), with the service that must run
    /// beside it (the etcd client), if any.
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
        default:
            let client = try self.makeEtcdClient(logger: logger)
            return (client, client)
        }
    }
}
