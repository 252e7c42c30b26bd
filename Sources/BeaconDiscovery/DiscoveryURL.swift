// SPDX-License-Identifier: Apache-2.0

package import Beacon
import BeaconConsul
import BeaconEtcd
import BeaconZooKeeper
import Logging

/// What a discovery URL names, parsed before any client is made.
///
/// | URL | Source |
/// | --- | --- |
/// | `etcd://host:port[,host:port...]` | an etcd client over `http://` endpoints |
/// | `etcds://host:port[,host:port...]` | the same over `https://` |
/// | `zookeeper://host:port[,host:port...][/chroot]` | a ZooKeeper client of that ensemble, below the chroot if any |
/// | `consul://host:port[,host:port...]` | a Consul client of those agents, over `http://` |
/// | `consuls://host:port[,host:port...]` | the same over `https://` |
/// | `file:///path/services.yaml` | a JSON or YAML file, re-read when it changes |
///
/// Credentials never go in the URL: an etcd user and password, ZooKeeper digest credentials, or a Consul ACL token
/// (and datacenter) come from the configuration. A URL with user information (`user@host`), a query or a fragment is
/// refused.
package enum DiscoveryURL: Equatable, Sendable {
    /// etcd members, as `http://host:port` (or `https://` for `etcds://`).
    case etcd(endpoints: [String])
    /// A ZooKeeper ensemble's servers, as `host:port`, and the path every key is relative to (`nil` for none).
    case zookeeper(servers: [String], chroot: String?)
    /// Consul agents, as `http://host:port` (or `https://` for `consuls://`).
    case consul(agents: [String])
    /// A JSON or YAML file, by absolute path.
    case file(path: String)

    /// Parses a discovery URL.
    ///
    /// - Parameter url: The URL, such as `etcd://10.0.0.1:2379,10.0.0.2:2379`, `zookeeper://10.0.0.1:2181/apps` or
    ///   `consul://127.0.0.1:8500`.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` whose `text` is the URL (user information
    ///   masked), when its scheme is unknown or what follows the scheme does not parse.
    package init(parsing url: String) throws(BeaconError) {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw Self.invalid(url, "a discovery URL starts with \(Self.schemes)")
        }
        let scheme = parts[0].lowercased()
        let rest = parts[1]
        switch scheme {
        case "etcd", "etcds":
            let hosts = rest.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingSuffix("/")
            }
            guard !hosts.isEmpty, hosts.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.contains("@") }) else {
                throw Self.invalid(url, "an etcd URL lists host:port pairs separated by commas, with no path or user")
            }
            let httpScheme = scheme == "etcds" ? "https" : "http"
            self = .etcd(endpoints: hosts.map { "\(httpScheme)://\($0)" })
        case "zookeeper":
            self = try Self.zookeeper(rest, url: url)
        case "file":
            guard rest.hasPrefix("/") else {
                throw Self.invalid(url, "a file URL names an absolute path: file:///path/to/services.yaml")
            }
            self = .file(path: String(rest))
        case "consul", "consuls":
            self = try Self.consul(rest, url: url, https: scheme == "consuls")
        default:
            throw Self.invalid(url, "unknown scheme \"\(scheme)\": use \(Self.schemes)")
        }
    }

    /// The schemes, as error messages list them.
    private static let schemes = "etcd://, etcds://, zookeeper://, consul://, consuls:// or file://"

    /// Parses what follows `consul://` or `consuls://`: `host:port[,host:port...]`, with no user, path, query or
    /// fragment (the token and the datacenter come from the configuration).
    private static func consul(_ rest: Substring, url: String, https: Bool) throws(BeaconError) -> DiscoveryURL {
        let shape = "a consul URL lists agents as host:port pairs separated by commas"
        guard !rest.contains("@") else {
            throw Self.invalid(
                url,
                shape + ", with no user or token: the ACL token comes from DiscoveryService.Configuration.consul"
            )
        }
        guard !rest.contains("?"), !rest.contains("#") else {
            throw Self.invalid(
                url,
                shape + ", with no query or fragment: the token and the datacenter come from "
                    + "DiscoveryService.Configuration.consul"
            )
        }
        let hosts = rest.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSuffix("/") }
        for host in hosts {
            guard !host.contains("/"), let colon = host.lastIndex(of: ":"), colon != host.startIndex,
                let port = Int(host[host.index(after: colon)...]), (1...65_535).contains(port)
            else {
                throw Self.invalid(url, shape + ", with no path: \"\(host)\" is not host:port")
            }
        }
        let httpScheme = https ? "https" : "http"
        return .consul(agents: hosts.map { "\(httpScheme)://\($0)" })
    }

    /// Parses what follows `zookeeper://`: `host:port[,host:port...][/chroot]`.
    private static func zookeeper(_ rest: Substring, url: String) throws(BeaconError) -> DiscoveryURL {
        let shape = "a zookeeper URL lists host:port pairs separated by commas, then an optional /chroot"
        guard !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else {
            throw Self.invalid(
                url,
                shape + ", with no user, query or fragment (credentials come from the configuration)"
            )
        }
        let slash = rest.firstIndex(of: "/")
        let hosts = rest[..<(slash ?? rest.endIndex)].split(separator: ",", omittingEmptySubsequences: false)
        for host in hosts {
            guard let colon = host.lastIndex(of: ":"), colon != host.startIndex,
                let port = Int(host[host.index(after: colon)...]), (1...65_535).contains(port)
            else {
                throw Self.invalid(url, shape + ": \"\(host)\" is not host:port")
            }
        }
        var chroot: String?
        if let slash {
            let path = rest[slash...].trimmingSuffix("/")
            guard !path.contains("//") else {
                throw Self.invalid(url, shape + ": the chroot \"\(path)\" has an empty segment")
            }
            chroot = path.isEmpty ? nil : path
        }
        return .zookeeper(servers: hosts.map(String.init), chroot: chroot)
    }

    /// The error for a URL that does not parse; its text is the URL with any user information, query or fragment
    /// masked.
    private static func invalid(_ url: String, _ message: String) -> BeaconError {
        BeaconError(.invalidValue, message, text: Self.masked(url))
    }

    /// The URL with what stands before an `@` in its authority (a user, a password) and what follows a `?` or a `#`
    /// (a query or a fragment, which may hold a token) replaced by `********`.
    ///
    /// - Parameter url: A URL as given.
    /// - Returns: The URL, safe to show.
    private static func masked(_ url: String) -> String {
        var url = Substring(url)
        var tail = ""
        if let end = url.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            tail = String(url[end]) + "********"
            url = url[..<end]
        }
        guard let separator = url.firstRange(of: "://") else { return String(url) + tail }
        let authority = url[separator.upperBound...].prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return String(url) + tail }
        return String(url[..<separator.upperBound]) + "********" + String(url[at...]) + tail
    }

    /// Makes the source a discovery URL names.
    ///
    /// - Parameters:
    ///   - url: The discovery URL.
    ///   - configuration: Where the clients' credentials and settings come from (their servers come from the URL).
    ///   - logger: The source's logger.
    /// - Returns: The source, and the client the service must run and close (`nil` for a file).
    /// - Throws: `BeaconError` naming the URL when it does not parse; the source's error when it cannot be made (an
    ///   `EtcdError`, a `ZooKeeperError` or a `ConsulError` for a configuration the client refuses).
    static func makeSource(
        _ url: String,
        configuration: DiscoveryService.Configuration,
        logger: Logger
    ) throws -> (source: any DiscoverySource, client: OwnedClient?) {
        switch try DiscoveryURL(parsing: url) {
        case .etcd(let endpoints):
            var etcd = configuration.etcd
            etcd.endpoints = endpoints
            let client = try EtcdClient(configuration: etcd, logger: logger)
            return (client, .etcd(client))
        case .zookeeper(let servers, let chroot):
            var zookeeper = configuration.zookeeper
            zookeeper.servers = servers
            zookeeper.chroot = chroot
            let client = try ZooKeeperClient(configuration: zookeeper, logger: logger)
            return (client, .zookeeper(client))
        case .consul(let agents):
            var consul = configuration.consul
            consul.agents = agents
            let client = try ConsulClient(configuration: consul, logger: logger)
            return (client, .consul(client))
        case .file(let path):
            return (try FileSource(path: path, logger: logger), nil)
        }
    }
}

/// A client a ``DiscoveryService`` made from its URL: the service runs it in its own `run()` and closes it.
enum OwnedClient: Sendable {
    case etcd(EtcdClient)
    case zookeeper(ZooKeeperClient)
    case consul(ConsulClient)

    /// Runs the client until its task is cancelled (or the client is closed); the client is closed when it returns.
    func run() async {
        switch self {
        case .etcd(let client): await client.run()
        case .zookeeper(let client): await client.run()
        case .consul(let client): await client.run()
        }
    }

    /// Closes the client; a ZooKeeper client's session is ended first (at most a few seconds without an answer).
    func close() async {
        switch self {
        case .etcd(let client): client.close()
        case .zookeeper(let client): await client.close()
        case .consul(let client): client.close()
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var text = String(self)
        while text.last == suffix { text.removeLast() }
        return text
    }
}
