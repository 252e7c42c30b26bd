// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Beacon
import BeaconConfd
import BeaconToolSupport
import Logging
import ServiceLifecycle
import UnixSignals

/// `beacon-confd`: confd's template resources, rendered with Mustache from etcd, ZooKeeper or Consul (or a file, or
/// the environment), re-rendered when a key or a service's instances change.
@main
struct BeaconConfdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon-confd",
        abstract: "Keeps configuration files rendered from discovered keys, as confd does, driven by watches.",
        discussion: """
            Reads confd's template resources (<confdir>/conf.d/*.toml) unchanged, renders each Mustache template \
            (<confdir>/templates) from the keys it names (and the registered instances of the services it names as \
            service:<name>), stages the result beside its dest, runs check_cmd on it, renames it into place and \
            runs reload_cmd. A failed check keeps the old file. With -watch every key and service is followed and a \
            change re-renders after -debounce milliseconds; without it, every -interval seconds; with -onetime, \
            once. SIGTERM or SIGINT stops between two renders. See Documentation/Confd.md.
            """
    )

    @OptionGroup(title: "Backend")
    var backend: BackendOptions

    @Option(name: .confd("confdir"), help: ArgumentHelp("confd's configuration directory.", valueName: "path"))
    var confdir = "/etc/confd"

    @Flag(name: .confd("onetime"), help: "Render every resource once and exit (status 1 if one failed).")
    var onetime = false

    @Flag(name: .confd("watch"), help: "Follow the keys and render when they change (no polling).")
    var watch = false

    @Option(name: .confd("interval"), help: "Seconds between renders when neither -watch nor -onetime is given.")
    var interval = 600

    @Option(name: .confd("debounce"), help: "With -watch, milliseconds to wait after a change for more changes.")
    var debounce = 20

    @Option(name: .confd("prefix"), help: "A key prefix put in front of every resource's prefix.")
    var prefix = ""

    @Flag(name: .confd("noop"), help: "Print what would change and write nothing.")
    var noop = false

    @Flag(name: .confd("sync-only"), help: "Write files without running check_cmd or reload_cmd.")
    var syncOnly = false

    @Option(name: .confd("file"), help: ArgumentHelp("The YAML or JSON file of -backend file.", valueName: "path"))
    var file: String?

    func validate() throws {
        guard !(self.onetime && self.watch) else { throw ValidationError("-onetime and -watch cannot go together") }
        guard self.interval > 0 else { throw ValidationError("-interval must be a positive number of seconds") }
        guard self.debounce >= 0 else { throw ValidationError("-debounce cannot be negative") }
    }

    func run() async throws {
        let logger = self.backend.makeLogger(label: "beacon-confd")
        let mode: Confd.Configuration.Mode =
            self.onetime ? .onetime : self.watch ? .watch : .interval(.seconds(self.interval))
        let confd: Confd
        let backend: (source: any DiscoverySource, service: (any Service)?)
        do {
            let resources = try TemplateResource.loadAll(confdir: self.confdir)
            if resources.isEmpty {
                logger.warning(
                    "No template resource found",
                    metadata: ["beacon.confd.confdir": "\(self.confdir)/conf.d"]
                )
            }
            backend = try self.backend.makeSource(
                file: self.file,
                logger: self.backend.makeLogger(label: self.backend.clientLoggerLabel)
            )
            confd = try Confd(
                resources: resources,
                source: backend.source,
                configuration: Confd.Configuration(
                    mode: mode,
                    prefix: self.prefix,
                    processing: ResourceProcessor.Configuration(noop: self.noop, syncOnly: self.syncOnly),
                    debounce: .milliseconds(self.debounce)
                ),
                logger: logger
            )
        } catch let error as ConfdError {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
        if self.onetime {
            // The client runs beside the renders and stops after them, which closes it (a ZooKeeper session ends at
            // once instead of timing out on the ensemble; a Consul client stops its I/O thread).
            try await withThrowingDiscardingTaskGroup { group in
                if let service = backend.service {
                    group.addTask { try await service.run() }
                }
                defer { group.cancelAll() }
                try await self.runOnce(confd, logger: logger)
            }
            return
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let service = backend.service { services.append(.init(service: service)) }
        services.append(.init(service: confd))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// `-onetime`: every resource once; `-noop` prints what would change on standard output.
    private func runOnce(_ confd: Confd, logger: Logger) async throws {
        var failed = 0
        for result in await confd.syncAll() {
            switch result.result {
            case .success(.wouldUpdate(let changes)):
                print("\(result.resource.destination) would change:")
                for line in changes { print("  \(line)") }
            case .success(.unchanged):
                if self.noop { print("\(result.resource.destination) is in sync") }
            case .success(.updated):
                break
            case .failure:
                failed += 1  // logged by Confd, with the file, line or key
            }
        }
        if failed > 0 { throw ExitCode.failure }
    }
}
