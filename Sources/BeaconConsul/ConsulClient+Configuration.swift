// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ConsulClient {
    /// An ACL token, sent in the `X-Consul-Token` header. Its text never appears in descriptions, reflections
    /// (`dump`, `Mirror`), errors or logs.
    public struct Token: Sendable, CustomStringConvertible, CustomReflectable {
        /// The token's secret.
        public var secret: String

        /// Creates a token.
        ///
        /// - Parameter secret: The token's secret ID.
        public init(_ secret: String) {
            self.secret = secret
        }

        /// `********`.
        public var description: String { "********" }

        /// A mirror that shows the secret as `********`.
        public var customMirror: Mirror {
            Mirror(self, children: ["secret": "********"], displayStyle: .struct)
        }
    }

    /// Which servers may answer a read, as Consul's consistency modes say.
    public struct Consistency: Hashable, Sendable, CustomStringConvertible {
        /// The query parameter, or `nil` for the default mode.
        let parameter: String?

        /// Consul's default: the leader answers, without checking it still leads (rarely stale).
        public static let `default` = Consistency(parameter: nil)
        /// The leader answers after confirming with a quorum that it still leads (`?consistent`): never stale, slower.
        public static let consistent = Consistency(parameter: "consistent")
        /// Any server answers (`?stale`): fastest, may lag the leader (see `QueryMeta.lastContact`).
        public static let stale = Consistency(parameter: "stale")

        /// `default`, `consistent` or `stale`.
        public var description: String { self.parameter ?? "default" }
    }

    /// TLS settings, passed through to libcurl; they apply to `https://` agents.
    public typealias TLS = ClientTLS

    /// How a ``ConsulClient`` reaches Consul.
    public struct Configuration: Sendable {
        /// The HTTP addresses of Consul agents, such as `http://127.0.0.1:8500` (the local agent first), with no user
        /// information, query or fragment (the token goes in ``token``). Requests go to one at a time and move to the
        /// next on a connection failure; registrations follow to the new agent.
        public var agents: [String]
        /// The ACL token; `nil` uses the agent's default token.
        public var token: Token?
        /// The datacenter to query (`?dc=`); `nil` uses the agent's own.
        public var datacenter: String?
        /// The consistency mode of reads. Default: ``Consistency/default``.
        public var consistency: Consistency
        /// TLS settings for `https://` agents.
        public var tls: TLS
        /// How long to wait for a TCP (and TLS) connection. Default: 2 seconds.
        public var connectTimeout: Duration
        /// How long a request that does not block may take. Default: 10 seconds.
        public var requestTimeout: Duration
        /// How long a blocking query (a watch) waits for a change before the agent answers anyway (`?wait=`); Consul
        /// adds up to 1/16 of it as jitter and caps it at 10 minutes. Default: 5 minutes, Consul's own default.
        public var watchWait: Duration
        /// After how long a registration whose TTL check stayed critical is removed by the agent
        /// (`DeregisterCriticalServiceAfter`; Consul's minimum is one minute). Default: 1 minute.
        public var deregisterCriticalServiceAfter: Duration
        /// The I/O thread to share with other clients; `nil` (the default) gives the client a private one, which it
        /// starts in `init` and stops in `close()`.
        ///
        /// Clients given the same `HTTPIOThread` wait for their answers on its one thread, instead of one thread
        /// each. Each keeps its own connections, timeouts, TLS settings and limits. Closing the client takes it off
        /// the thread and leaves the thread running; the application shuts the thread down after its clients
        /// (`HTTPIOThread.shutdown()`), and a client whose thread was shut down fails with code `closed`.
        public var ioThread: HTTPIOThread?

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - agents: The agents' HTTP addresses.
        ///   - token: The ACL token.
        ///   - datacenter: The datacenter to query.
        ///   - consistency: The consistency mode of reads.
        ///   - tls: TLS settings.
        ///   - connectTimeout: How long to wait for a connection.
        ///   - requestTimeout: How long a request that does not block may take.
        ///   - watchWait: How long a blocking query waits.
        ///   - deregisterCriticalServiceAfter: When the agent removes a registration whose check stayed critical.
        ///   - ioThread: The I/O thread shared with other clients, or `nil` for a private one.
        public init(
            agents: [String] = ["http://127.0.0.1:8500"],
            token: Token? = nil,
            datacenter: String? = nil,
            consistency: Consistency = .default,
            tls: TLS = TLS(),
            connectTimeout: Duration = .seconds(2),
            requestTimeout: Duration = .seconds(10),
            watchWait: Duration = .seconds(300),
            deregisterCriticalServiceAfter: Duration = .seconds(60),
            ioThread: HTTPIOThread? = nil
        ) {
            self.agents = agents
            self.token = token
            self.datacenter = datacenter
            self.consistency = consistency
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.watchWait = watchWait
            self.deregisterCriticalServiceAfter = deregisterCriticalServiceAfter
            self.ioThread = ioThread
        }
    }
}

extension Duration {
    /// The duration as Go writes it for Consul: whole seconds (`90s`), or milliseconds when shorter than a second.
    var goDuration: String {
        let milliseconds = self.wholeMilliseconds
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
