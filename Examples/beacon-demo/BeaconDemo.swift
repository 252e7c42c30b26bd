// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconEtcd
import BeaconZooKeeper
import Foundation
import Logging

/// Prints where the demo app's database and memcached servers are, read through discovery.
@main
struct BeaconDemo {
    static let usage = """
        Usage: beacon-demo [--file PATH | --etcd URL[,URL...] | --zookeeper HOST:PORT[,HOST:PORT...]
                            | --consul URL[,URL...]] [--watch]

        Prints the database endpoint (/db/main/endpoint) and the memcached servers (/memcached/servers/)
        found through discovery.

          --file PATH           read a JSON or YAML file instead of the bundled default
          --etcd URL[,URL...]   read the same keys from etcd (for example http://127.0.0.1:2379)
          --zookeeper HOST:PORT[,HOST:PORT...][/CHROOT]
                                read the same keys from ZooKeeper nodes (for example 127.0.0.1:2181),
                                below CHROOT if given
          --consul URL[,URL...] read the same keys from Consul's KV store through its agents (for example
                                http://127.0.0.1:8500); the ACL token, if one is needed, comes from the
                                BEACON_CONSUL_TOKEN environment variable
          --watch               keep running and print the services again whenever they change
          --help                show this text
        """

    /// The environment variable the Consul ACL token is read from (never from the command line, which `ps` shows).
    static let consulTokenVariable = "BEACON_CONSUL_TOKEN"

    /// The keys the demo reads: the database's key and the memcached servers' prefix.
    static let followed = ["/db/main/endpoint", "/memcached/servers/"]

    static func main() async {
        var arguments = CommandLine.arguments.dropFirst()
        var path: String?
        var etcdEndpoints: [String]?
        var zookeeperServers: String?
        var consulAgents: [String]?
        var watch = false
        while let argument = arguments.popFirst() {
            switch argument {
            case "--file":
                guard let value = arguments.popFirst() else { fail("--file needs a path") }
                path = value
            case "--etcd":
                guard let value = arguments.popFirst() else { fail("--etcd needs one or more URLs") }
                etcdEndpoints = value.split(separator: ",").map(String.init)
            case "--zookeeper":
                guard let value = arguments.popFirst() else { fail("--zookeeper needs one or more host:port") }
                zookeeperServers = value
            case "--consul":
                guard let value = arguments.popFirst() else { fail("--consul needs one or more agent URLs") }
                consulAgents = value.split(separator: ",").map(String.init)
            case "--watch":
                watch = true
            case "--help", "-h":
                emit(usage)
                return
            default:
                fail("unknown argument \(argument)")
            }
        }
        guard
            [path != nil, etcdEndpoints != nil, zookeeperServers != nil, consulAgents != nil].filter({ $0 }).count <= 1
        else {
            fail("give only one of --file, --etcd, --zookeeper and --consul")
        }

        // Reload problems, endpoint changes and watch restarts are logged to standard error.
        let logger = Logger(label: "beacon-demo", factory: { StreamLogHandler.standardError(label: $0) })
        do {
            if let etcdEndpoints {
                let etcd = try EtcdClient(configuration: .init(endpoints: etcdEndpoints), logger: logger)
                defer { etcd.close() }
                emit("Source: etcd at \(etcdEndpoints.joined(separator: ", "))")
                try await show(etcd, watch: watch)
            } else if let consulAgents {
                let token = ProcessInfo.processInfo.environment[consulTokenVariable].flatMap {
                    $0.isEmpty ? nil : ConsulClient.Token($0)
                }
                let consul = try ConsulClient(configuration: .init(agents: consulAgents, token: token), logger: logger)
                defer { consul.close() }
                emit("Source: Consul at \(consulAgents.joined(separator: ", "))")
                try await show(consul, watch: watch)
            } else if let zookeeperServers {
                let configuration = try ZooKeeperClient.Configuration(connectionString: zookeeperServers)
                // libzookeeper logs every connection step at info level: only its warnings and errors are shown.
                var zookeeperLogger = logger
                zookeeperLogger.logLevel = .warning
                let zookeeper = try ZooKeeperClient(configuration: configuration, logger: zookeeperLogger)
                emit("Source: ZooKeeper at \(zookeeperServers)")
                do {
                    try await show(zookeeper, watch: watch)
                } catch {
                    await zookeeper.close()
                    throw error
                }
                // Ends the session at once (closing waits for the ensemble on a thread of its own).
                await zookeeper.close()
            } else {
                let file = try path ?? defaultFile()
                let source = try FileSource(
                    path: file,
                    configuration: .init(pollInterval: .milliseconds(250)),
                    logger: logger
                )
                emit("Source: \(file)")
                try await show(source, watch: watch)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Prints the services once, or after every change with `watch`.
    static func show(_ source: some DiscoverySource, watch: Bool) async throws {
        guard watch else {
            async let database = source.get("/db/main/endpoint")
            async let servers = source.list(prefix: "/memcached/servers/")
            let entries = try await [database].compactMap { $0 } + servers
            emit(describe(DiscoverySnapshot(prefix: "/", entries: entries)))
            return
        }
        try await follow(source)
    }

    /// Prints the services whenever the database key or the memcached prefix changes, until a watch fails.
    ///
    /// One watch per location rather than one of the whole source, so that nothing else is followed: a watch of `/`
    /// would keep two ZooKeeper watches on every node of the tree.
    static func follow(_ source: some DiscoverySource) async throws {
        let (changes, continuation) = AsyncThrowingStream.makeStream(of: (Int, DiscoverySnapshot).self)
        try await withThrowingDiscardingTaskGroup { group in
            for (index, prefix) in followed.enumerated() {
                group.addTask {
                    do {
                        for try await snapshot in source.watch(prefix: prefix) {
                            continuation.yield((index, snapshot))
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
            }
            defer { group.cancelAll() }
            var latest = [DiscoverySnapshot?](repeating: nil, count: followed.count)
            for try await (index, snapshot) in changes {
                latest[index] = snapshot
                // Print once every location has been read, then on each change.
                let known = latest.compactMap { $0 }
                guard known.count == followed.count else { continue }
                emit("--- changed")
                emit(describe(DiscoverySnapshot(prefix: "/", entries: known.flatMap(\.entries))))
            }
        }
    }

    /// The bundled default file, found next to the executable whatever the working directory.
    static func defaultFile() throws -> String {
        guard let url = Bundle.module.url(forResource: "beacon-demo", withExtension: "yaml") else {
            throw BeaconError(.unreadableFile, "the bundled default file is missing", file: "beacon-demo.yaml")
        }
        return url.path
    }

    /// Renders the services found in a snapshot of the whole source.
    static func describe(_ snapshot: DiscoverySnapshot) -> String {
        var lines: [String] = []
        if let entry = snapshot[key: "/db/main/endpoint"] {
            do {
                lines.append("Database:  \(try entry.endpoint(defaultPort: 5432))")
            } catch {
                lines.append("Database:  invalid: \(error)")
            }
        } else {
            lines.append("Database:  not configured (/db/main/endpoint is absent)")
        }
        let servers = snapshot.filter { $0.key.hasPrefix("/memcached/servers/") }
        if servers.isEmpty {
            lines.append("Memcached: no servers (/memcached/servers/ is empty)")
        }
        for entry in servers {
            do {
                lines.append("Memcached: \(try entry.endpoint(defaultPort: 11211))")
            } catch {
                lines.append("Memcached: invalid: \(error)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Writes a line to standard output at once (unbuffered), so `--watch` output reaches pipes and logs live.
    static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("beacon-demo: \(message)\n".utf8))
        exit(1)
    }
}
