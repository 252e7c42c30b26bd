// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ZooKeeperClient {
    /// A user name and password for ZooKeeper's `digest` authentication. The password never appears in descriptions.
    public typealias DigestCredentials = UserCredentials

    /// How a ``ZooKeeperClient`` reaches ZooKeeper.
    public struct Configuration: Sendable {
        /// The ensemble's servers as `host:port`, such as `10.0.0.1:2181`. The client connects to one at a time, in
        /// random order, and moves to another when the connection is lost; its session moves with it.
        public var servers: [String]
        /// A path that every path of the client is relative to, such as `/apps/shop`; `nil` for none. The node must
        /// exist (create it with a client without a chroot). Keys and the paths in errors are relative to it.
        public var chroot: String?
        /// How long the ensemble keeps the session, and so the client's ephemeral nodes and registrations, after
        /// the client stops answering. The server clamps it to its own minimum and maximum (by default 2 and 20
        /// ticks). Default: 10 seconds.
        public var sessionTimeout: Duration
        /// Digest credentials, added to every session the client opens; `nil` by default.
        public var credentials: DigestCredentials?
        /// The ACL of the nodes the client creates. Default: ``ZooKeeperACL/openUnsafe`` (anyone may do anything);
        /// ``ZooKeeperACL/creatorAll`` restricts them to the credentials' user.
        public var acl: [ZooKeeperACL]
        /// How long a request keeps being retried while no server answers (connection lost, session being replaced)
        /// before it fails with ``ZooKeeperError/Code/unavailable``. Default: 10 seconds.
        public var requestTimeout: Duration
        /// The path under which ``ZooKeeperClient/register(_:ttl:)`` and ``ZooKeeperClient/instances(of:)`` keep
        /// instances, as on etcd: `<servicePrefix>/<service>/<id>`. Default: `/services`.
        public var servicePrefix: String
        /// Whether registrations are sequential nodes, `<servicePrefix>/<service>/<id>-0000000007`, so that two
        /// processes registering the same id do not collide. Default: `false` (the node is named after the id).
        public var sequentialRegistrations: Bool

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - servers: The ensemble's servers as `host:port`.
        ///   - chroot: A path every path of the client is relative to.
        ///   - sessionTimeout: How long the ensemble keeps a silent session.
        ///   - credentials: Digest credentials.
        ///   - acl: The ACL of created nodes.
        ///   - requestTimeout: How long requests are retried while no server answers.
        ///   - servicePrefix: Where registrations live.
        ///   - sequentialRegistrations: Whether registrations are sequential nodes.
        public init(
            servers: [String],
            chroot: String? = nil,
            sessionTimeout: Duration = .seconds(10),
            credentials: DigestCredentials? = nil,
            acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe,
            requestTimeout: Duration = .seconds(10),
            servicePrefix: String = ServiceInstance.defaultPrefix,
            sequentialRegistrations: Bool = false
        ) {
            self.servers = servers
            self.chroot = chroot
            self.sessionTimeout = sessionTimeout
            self.credentials = credentials
            self.acl = acl
            self.requestTimeout = requestTimeout
            self.servicePrefix = servicePrefix
            self.sequentialRegistrations = sequentialRegistrations
        }

        /// Creates a configuration from a ZooKeeper connection string, `host:port,host:port[/chroot]`, as ZooKeeper's
        /// own clients take it.
        ///
        /// - Parameter connectionString: The servers, optionally followed by a chroot.
        /// - Throws: ``ZooKeeperError`` with code ``ZooKeeperError/Code/invalidConfiguration`` when no server is
        ///   given.
        public init(connectionString: String) throws(ZooKeeperError) {
            let slash = connectionString.firstIndex(of: "/")
            let hosts = slash.map { connectionString[..<$0] } ?? connectionString[...]
            let servers = hosts.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
            let chroot = slash.map { String(connectionString[$0...]) }
            self.init(servers: servers, chroot: chroot == "/" ? nil : chroot)
            try self.validate()
        }

        /// The ensemble as `host:port,host:port`, as errors name it.
        var ensemble: String { self.servers.joined(separator: ",") }

        /// The host string for `zookeeper_init`: the servers, then the chroot.
        var connectionString: String { self.ensemble + (self.chroot ?? "") }

        /// Checks what libzookeeper would reject later, with a clearer message.
        func validate() throws(ZooKeeperError) {
            func invalid(_ message: String) -> ZooKeeperError {
                ZooKeeperError(.invalidConfiguration, message, operation: "configure", target: self.ensemble)
            }
            guard !self.servers.isEmpty else { throw invalid("no server is given") }
            for server in self.servers {
                guard let colon = server.lastIndex(of: ":"), colon != server.startIndex,
                    let port = Int(server[server.index(after: colon)...]), (1...65_535).contains(port)
                else { throw invalid("'\(server)' is not host:port") }
            }
            if let chroot = self.chroot {
                guard chroot.hasPrefix("/"), chroot.count > 1, !chroot.hasSuffix("/"), !chroot.contains("//") else {
                    throw invalid("the chroot '\(chroot)' is not an absolute path without a trailing '/'")
                }
            }
            guard self.sessionTimeout > .zero, self.requestTimeout > .zero else {
                throw invalid("the session and request timeouts must be positive")
            }
        }
    }
}

extension String {
    fileprivate var trimmed: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
