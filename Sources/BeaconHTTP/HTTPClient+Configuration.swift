// SPDX-License-Identifier: Apache-2.0

package import Beacon

extension HTTPClient {
    /// Settings of an ``HTTPClient``: timeouts, TLS and connection limits.
    ///
    /// Every property has a default, so `HTTPClient.Configuration()` is a working configuration.
    package struct Configuration: Sendable {
        /// How long establishing a connection (TCP and TLS handshakes) may take. Default: 5 seconds.
        package var connectTimeout: Duration = .seconds(5)

        /// How long a whole ``HTTPClient/execute(_:)`` transfer may take, from the moment it starts
        /// (connecting included) to the last byte of the body. Default: 30 seconds.
        ///
        /// ``HTTPRequest/timeout`` overrides it per request. A request waiting for a free connection slot
        /// (see ``maxConnectionsPerHost``) does not use up its timeout while it waits. Streams have no total
        /// timeout unless their request sets one: see ``streamIdleTimeout``.
        package var requestTimeout: Duration = .seconds(30)

        /// The default idle timeout of ``HTTPClient/stream(_:)``: a stream that receives no byte for this long
        /// fails with ``HTTPError/Code/timedOut``. Default: `nil` (a stream may stay silent forever, as an idle
        /// etcd watch does). The time counts from the start, so it also bounds the wait for the response head. A
        /// stream whose consumer has not read everything received yet is not idle. ``HTTPRequest/idleTimeout`` overrides it per
        /// request.
        package var streamIdleTimeout: Duration? = nil

        /// TLS settings, used for `https` URLs.
        package var tls: TLS = TLS()

        /// At most this many ``HTTPClient/execute(_:)`` transfers run at once per scheme, host and port; further
        /// requests wait in a queue, in order, and then reuse the kept-alive connections. Default: 8.
        ///
        /// Streams are not counted and never wait: each holds its own connection for as long as it lives (HTTP/1.1
        /// has no multiplexing), and a limit shared with long-lived watches could starve requests. Values below 1
        /// count as 1.
        package var maxConnectionsPerHost: Int = 8

        /// How many idle connections the client keeps open for reuse, over all hosts. Default: 32.
        package var maxIdleConnections: Int = 32

        /// TCP keepalive: the idle time before the first probe and the interval between probes. Default: 30 seconds.
        ///
        /// Keepalive probes detect a dead peer on an otherwise silent connection, such as an idle watch.
        package var tcpKeepAliveInterval: Duration = .seconds(30)

        /// The limit of body bytes a stream buffers for a consumer that has not read them yet. When it is reached,
        /// the transfer pauses (nothing is lost) until the consumer catches up. Default: 1 MiB.
        package var streamBufferLimit: Int = 1 << 20

        /// The I/O thread to share with other clients; `nil` (the default) starts a private one for this client,
        /// stopped by ``HTTPClient/close()``.
        ///
        /// On a shared thread the client keeps its own multi handle, so every other setting here stays its own.
        /// ``HTTPClient/close()`` then takes the client off the thread and leaves the thread to the other clients;
        /// ``HTTPIOThread/shutdown()`` fails the transfers of every client still on it.
        package var ioThread: HTTPIOThread? = nil

        /// A configuration with every default.
        package init() {}
    }
}

extension HTTPClient.Configuration {
    /// TLS settings, passed through to libcurl.
    package struct TLS: Sendable {
        /// A PEM file of certificate authorities to trust instead of the system's (`CURLOPT_CAINFO`).
        /// Default: `nil` (the system store).
        package var caBundlePath: String? = nil

        /// A PEM client certificate for mutual TLS (`CURLOPT_SSLCERT`). Default: `nil`.
        package var certificatePath: String? = nil

        /// The PEM private key of ``certificatePath`` (`CURLOPT_SSLKEY`). Default: `nil`.
        package var privateKeyPath: String? = nil

        /// The name to send in SNI and to verify the server certificate against, when it differs from the URL's
        /// host (for example a URL with an IP address). Default: `nil` (the URL's host).
        ///
        /// The client then asks libcurl for `https://<serverName>:<port>/...` and connects it to the URL's host
        /// and port with `CURLOPT_CONNECT_TO`, so the `Host` header carries this name too.
        package var serverName: String? = nil

        /// Whether to verify the server's certificate chain and that it names the host
        /// (`CURLOPT_SSL_VERIFYPEER` and `CURLOPT_SSL_VERIFYHOST`). Default: `true`.
        package var verifyPeer: Bool = true

        /// Settings that trust the system's certificate authorities and verify the server.
        package init() {}
    }
}
