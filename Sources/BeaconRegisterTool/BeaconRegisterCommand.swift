// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Beacon
import BeaconRegister
import BeaconToolSupport
import Logging
import ServiceLifecycle
import UnixSignals

/// `beacon-register`: keeps an instance registered in the discovery backend while it is healthy.
@main
struct BeaconRegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon-register",
        abstract: "Keeps an instance registered in etcd, ZooKeeper or Consul while it is healthy.",
        discussion: """
            Checks the instance every -interval seconds (an HTTP GET answering 2xx, or a TCP connect; by default a \
            TCP connect to -address) and, while it passes, keeps either a service instance (-service, -id, -address) \
            or a plain key (-key, -value) registered: in etcd under a lease of -ttl seconds, in ZooKeeper \
            (-backend zookeeper) as an ephemeral node of a session that times out after -ttl seconds, in Consul \
            (-backend consul, instances only) as an agent service whose TTL check of -ttl seconds is passed while \
            the instance is healthy. After -failures failed checks in a row the registration is withdrawn at once; \
            it comes back when the instance recovers. SIGTERM or SIGINT withdraws it and exits; if the process is \
            killed, the registration disappears within -ttl seconds (Consul: it stops being listed as passing, and \
            the agent removes it a minute later).
            """
    )

    @OptionGroup(title: "Backend")
    var backend: BackendOptions

    @Option(name: .confd("service"), help: "The service's name, for a service instance (with -id and -address).")
    var service: String?

    @Option(name: .confd("id"), help: "The instance's identifier within the service.")
    var id: String?

    @Option(
        name: .confd("address"),
        help: ArgumentHelp(
            "Where the instance listens; the default value of -key and target of the check.",
            valueName: "host:port"
        )
    )
    var address: String?

    @Option(
        name: .confd("metadata"),
        help: ArgumentHelp("A label of the service instance; repeatable.", valueName: "name=value")
    )
    var metadata: [String] = []

    @Option(name: .confd("key"), help: "A plain key to keep, such as /test/apache-8001 (instead of -service).")
    var key: String?

    @Option(name: .confd("value"), help: "The value of -key (default: -address).")
    var value: String?

    @Option(name: .confd("check-http"), help: ArgumentHelp("Check with a GET that must answer 2xx.", valueName: "url"))
    var checkHTTP: String?

    @Option(
        name: .confd("check-tcp"),
        help: ArgumentHelp("Check with a TCP connect (default: to -address).", valueName: "host:port")
    )
    var checkTCP: String?

    @Option(name: .confd("interval"), help: ArgumentHelp("Seconds between checks.", valueName: "seconds"))
    var interval: Double = 5

    @Option(name: .confd("check-timeout"), help: ArgumentHelp("Seconds a check may take.", valueName: "seconds"))
    var checkTimeout: Double = 2

    @Option(
        name: .confd("ttl"),
        help: ArgumentHelp(
            "Seconds the registration outlives a killed process (etcd: the lease's TTL; zookeeper: the session "
                + "timeout; consul: the TTL check's TTL).",
            valueName: "seconds"
        )
    )
    var ttl: Int = 10

    @Option(name: .confd("failures"), help: "Failed checks in a row that withdraw the registration.")
    var failures: Int = 3

    func validate() throws {
        if self.key != nil {
            guard !self.backend.isConsul else {
                throw ValidationError(
                    "-key keeps a plain key alive, and Consul has no such key (its KV entries outlive their writer): "
                        + "register a service instance instead, with -service, -id and -address, which Consul lists "
                        + "in its catalog while its TTL check passes"
                )
            }
            guard self.service == nil, self.id == nil, self.metadata.isEmpty else {
                throw ValidationError("give either -key (a plain key) or -service and -id (an instance), not both")
            }
            guard self.value != nil || self.address != nil else {
                throw ValidationError("-key needs -value or -address")
            }
        } else {
            guard self.service != nil, self.id != nil, self.address != nil else {
                throw ValidationError("give -key (a plain key), or -service, -id and -address (an instance)")
            }
        }
        if self.checkHTTP != nil && self.checkTCP != nil {
            throw ValidationError("give -check-http or -check-tcp, not both")
        }
        guard self.interval > 0, self.checkTimeout > 0 else {
            throw ValidationError("-interval and -check-timeout must be positive")
        }
        guard self.ttl >= 1 else { throw ValidationError("-ttl must be at least 1 second") }
        guard self.failures >= 1 else { throw ValidationError("-failures must be at least 1") }
        _ = try self.healthCheck()
        _ = try self.labels()
    }

    func run() async throws {
        let logger = self.backend.makeLogger(label: "beacon-register")
        // With ZooKeeper, the session timeout plays the part of the lease's TTL.
        let client = try self.backend.makeBackend(
            sessionTimeout: .seconds(self.ttl),
            logger: self.backend.makeLogger(label: self.backend.clientLoggerLabel)
        )
        let target: RegistrationTarget
        if let key = self.key {
            guard let store = client as? any EphemeralKeyStore else {
                throw ValidationError("-backend \(self.backend.backend) has no ephemeral keys: use -service instead")
            }
            target = .key(key, value: self.value ?? self.address ?? "", in: store)
        } else {
            let instance = ServiceInstance(
                service: self.service ?? "",
                id: self.id ?? "",
                endpoint: try Self.endpoint(self.address ?? "", flag: "-address"),
                metadata: try self.labels()
            )
            try instance.validate()
            target = .instance(instance, in: client)
        }
        var configuration = RegistrationWatchdog.Configuration()
        configuration.interval = .milliseconds(Int64(self.interval * 1000))
        configuration.checkTimeout = .milliseconds(Int64(self.checkTimeout * 1000))
        configuration.ttl = .seconds(self.ttl)
        configuration.failureThreshold = self.failures
        let watchdog = RegistrationWatchdog(
            check: try self.healthCheck(),
            target: target,
            configuration: configuration,
            logger: logger
        )
        // The watchdog last: on SIGTERM it stops first and withdraws while the client still runs.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: client), .init(service: watchdog)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// The check from the flags: -check-http, -check-tcp, or a TCP connect to -address (or to -value).
    private func healthCheck() throws -> HealthCheck {
        if let url = self.checkHTTP {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ValidationError("-check-http needs an http:// or https:// URL")
            }
            return .http(url)
        }
        if let target = self.checkTCP {
            return .tcp(try Self.endpoint(target, flag: "-check-tcp"))
        }
        if let address = self.address {
            return .tcp(try Self.endpoint(address, flag: "-address"))
        }
        if let value = self.value, let endpoint = try? Endpoint(parsing: value) {
            return .tcp(endpoint)
        }
        throw ValidationError("give -check-http or -check-tcp (or -address, checked with a TCP connect)")
    }

    /// The instance's labels from the repeated -metadata flags.
    private func labels() throws -> [String: String] {
        var labels: [String: String] = [:]
        for item in self.metadata {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("-metadata \(item) is not name=value")
            }
            labels[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return labels
    }

    private static func endpoint(_ text: String, flag: String) throws -> Endpoint {
        do {
            return try Endpoint(parsing: text)
        } catch {
            throw ValidationError("\(flag) \(text) is not host:port: \(error.message)")
        }
    }
}
