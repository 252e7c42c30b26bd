// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension EtcdClient {
    /// A user name and password for etcd's authentication. The password never appears in descriptions.
    public typealias Credentials = UserCredentials

    /// TLS settings, passed through to libcurl; they apply to `https://` endpoints.
    public typealias TLS = ClientTLS

    /// How an ``EtcdClient`` reaches etcd.
    public struct Configuration: Sendable {
        /// The client URLs of the cluster's members, such as `http://10.0.0.1:2379`, with no user information,
        /// query or fragment (the user and password go in ``credentials``). Requests go to one at a time and move to
        /// the next on a connection failure.
        public var endpoints: [String]
        /// The user and password, when etcd has authentication enabled; `nil` by default.
        public var credentials: Credentials?
        /// TLS settings for `https://` endpoints.
        public var tls: TLS
        /// How long to wait for a TCP (and TLS) connection. Default: 2 seconds.
        public var connectTimeout: Duration
        /// How long a single request may take. Default: 10 seconds.
        public var requestTimeout: Duration
        /// How long a watch may stay silent before it is re-established (etcd sends progress notifications
        /// every 10 minutes by default, so keep this above that, or lower the server's interval). Default:
        /// 11 minutes.
        public var watchIdleTimeout: Duration
        /// How long a watch stream may stay silent before the client checks that its member still answers
        /// (`GET /version`, within ``watchCheckTimeout``); `nil` turns the check off. A frozen or partitioned
        /// member keeps the stream's TCP connection open (its kernel still answers keep-alives) but sends nothing,
        /// so without the check the watch would wait for ``watchIdleTimeout``. When the member does not answer, the
        /// watch moves to the next endpoint and resumes after the last revision it applied. Costs one small request
        /// per silent interval per watch, answered without touching the raft log. Default: 2 seconds.
        public var watchCheckInterval: Duration?
        /// How long the check of ``watchCheckInterval`` waits for the member's answer. Default: 1 second.
        public var watchCheckTimeout: Duration
        /// The first delay before re-establishing a broken watch; doubled on each failure up to 5 seconds.
        /// Default: 100 milliseconds.
        public var watchRetryDelay: Duration
        /// The prefix of the `ServiceInstance` key convention. Default: `/services`.
        public var servicePrefix: String
        /// The I/O thread to share with other clients; `nil` (the default) gives the client a private one, which it
        /// starts in `init` and stops in `close()`.
        ///
        /// Clients given the same `HTTPIOThread` wait for their answers on its one thread, instead of one thread
        /// each. Each keeps its own connections, timeouts, TLS settings and limits. Closing the client takes it off
        /// the thread and leaves the thread running; the application shuts the thread down after its clients
        /// (`HTTPIOThread.shutdown()`), and a client whose thread was shut down fails with code `closed`.
        public var ioThread: HTTPIOThread?

        /// Creates a configuration; every other setting has the default documented on its property.
        ///
        /// - Parameters:
        ///   - endpoints: The members' client URLs.
        ///   - credentials: The user and password, if etcd has authentication enabled.
        public init(endpoints: [String], credentials: Credentials? = nil) {
            self.endpoints = endpoints
            self.credentials = credentials
            self.tls = TLS()
            self.connectTimeout = .seconds(2)
            self.requestTimeout = .seconds(10)
            self.watchIdleTimeout = .seconds(660)
            self.watchCheckInterval = .seconds(2)
            self.watchCheckTimeout = .seconds(1)
            self.watchRetryDelay = .milliseconds(100)
            self.servicePrefix = "/services"
            self.ioThread = nil
        }
    }
}
