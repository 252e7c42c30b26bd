// SPDX-License-Identifier: Apache-2.0

/// TLS settings of a client that reaches its servers over HTTPS (the etcd and Consul clients), passed through to
/// libcurl; they apply to `https://` addresses.
public struct ClientTLS: Sendable {
    /// A PEM file of certificate authorities to trust; `nil` uses the system's.
    public var caBundlePath: String?
    /// A PEM client certificate, for servers that verify their clients (etcd's `--client-cert-auth`, Consul's
    /// `verify_incoming`).
    public var certificatePath: String?
    /// The client certificate's PEM private key.
    public var privateKeyPath: String?
    /// Whether to verify the server's certificate and name. Default: `true`.
    public var verifyPeer: Bool

    /// Creates TLS settings.
    ///
    /// - Parameters:
    ///   - caBundlePath: Certificate authorities to trust.
    ///   - certificatePath: A client certificate.
    ///   - privateKeyPath: The client certificate's key.
    ///   - verifyPeer: Whether to verify the server.
    public init(
        caBundlePath: String? = nil,
        certificatePath: String? = nil,
        privateKeyPath: String? = nil,
        verifyPeer: Bool = true
    ) {
        self.caBundlePath = caBundlePath
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.verifyPeer = verifyPeer
    }
}
