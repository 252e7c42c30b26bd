// SPDX-License-Identifier: Apache-2.0

package import Beacon
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
/// | `file:///path/services.yaml` | a JSON or YAML file, re-read when it changes |
///
/// Credentials never go in the URL: an etcd user and password, or ZooKeeper digest credentials, come from the
/// configuration. A URL with user information (`user@host`), a query or a fragment is refused.
package enum DiscoveryURL: Equatable, Sendable {
    /// etcd members, as `http://host:port` (or `https://` for `etcds://`).
    case etcd(endpoints: [String])
    /// A ZooKeeper ensemble's servers, as `host:port`, and the path every key is relative to (`nil` for none).
    case zookeeper(servers: [String], chroot: String?)
    /// A JSON or YAML file, by absolute path.
    case file(path: String)

    /// Parses a discovery URL.
    ///
    /// - Parameter url: The URL, such as `etcd://10.0.0.1:2379,10.0.0.2:2379` or `zookeeper://10.0.0.1:2181/apps`.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` whose `text` is the URL, when its scheme
    ///   is unknown or what follows the scheme does not parse.
    package init(parsing url: String) throws(BeaconError) {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw Self.invalid(url, "a discovery URL starts with etcd://, etcds://, zookeeper:// or file://")
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
        case "consul":
            throw Self.invalid(url, "this build of Beacon has no consul client yet")
        default:
            throw Self.invalid(url, "unknown scheme \"\(scheme)\": use etcd://, etcds://, zookeeper:// or file://")
        }
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

    /// The error for a URL that does not parse; its text is the URL with any user information masked.
    private static func invalid(_ url: String, _ message: String) -> BeaconError {
        BeaconError(.invalidValue, message, text: Self.masked(url))
    }

    /// The URL with what stands before an `@` in its authority (a user, a password) replaced by `********`.
    ///
    /// - Parameter url: A URL as given.
    /// - Returns: The URL, safe to show.
    private static func masked(_ url: String) -> String {
        guard let separator = url.firstRange(of: "://") else { return url }
        let authority = url[separator.upperBound...].prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<separator.upperBound]) + "********" + String(url[at...])
    }

    /// Makes the source a discovery URL names.
    ///
    /// - Parameters:
    ///   - url: The discovery URL.
    ///   - configuration: Where the clients' credentials and settings come from (their servers come from the URL).
    ///   - logger: The source's logger.
    /// - Returns: The source, and the client the service must run and close (`nil` for a file).
    /// - Throws: `BeaconError` naming the URL when it does not parse; the source's error when it cannot be made.
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
        case .file(let path):
            return (try FileSource(path: path, logger: logger), nil)
        }
    }
}

/// A client a ``DiscoveryService`` made from its URL: the service runs it in its own `run()` and closes it.
enum OwnedClient: Sendable {
    case etcd(EtcdClient)
    case zookeeper(ZooKeeperClient)

    /// Runs the client until its task is cancelled (or the client is closed); the client is closed when it returns.
    func run() async {
        switch self {
        case .etcd(let client): await client.run()
        case .zookeeper(let client): await client.run()
        }
    }

    /// Closes the client; a ZooKeeper client's session is ended first (at most a few seconds without an answer).
    func close() async {
        switch self {
        case .etcd(let client): client.close()
        case .zookeeper(let client): await client.close()
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
