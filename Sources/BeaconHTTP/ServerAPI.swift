// SPDX-License-Identifier: Apache-2.0

package import Beacon

extension HTTPClient.Configuration {
    /// The configuration of a client of a server's HTTP API (etcd's gateway, Consul's agents): its timeouts and its
    /// TLS settings, the rest left at their defaults.
    ///
    /// - Parameters:
    ///   - connectTimeout: How long to wait for a TCP (and TLS) connection.
    ///   - requestTimeout: How long a request may take unless it says otherwise.
    ///   - tls: The TLS settings for `https://` addresses.
    ///   - ioThread: The I/O thread shared with other clients, or `nil` for a private one.
    package init(connectTimeout: Duration, requestTimeout: Duration, tls: ClientTLS, ioThread: HTTPIOThread? = nil) {
        self.init()
        self.ioThread = ioThread
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.tls.caBundlePath = tls.caBundlePath
        self.tls.certificatePath = tls.certificatePath
        self.tls.privateKeyPath = tls.privateKeyPath
        self.tls.verifyPeer = tls.verifyPeer
    }
}

/// The base URLs of a server's HTTP API, as a configuration gives them.
package enum ServerURL {
    /// The URL without blanks and trailing slashes, when it is an `http://` or `https://` URL with a host and no user
    /// information, query or fragment (credentials and tokens come from the configuration, never from the URL, which
    /// errors and logs show).
    ///
    /// - Parameter text: The configured address, such as `http://10.0.0.1:2379/`.
    /// - Returns: The normalized URL (`http://10.0.0.1:2379`), or `nil` when it is not such a URL.
    package static func normalized(_ text: String) -> String? {
        var url = text.filter { !$0.isWhitespace }
        while url.hasSuffix("/") { url.removeLast() }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > "https://".count,
            !url.contains("@"), !url.contains("?"), !url.contains("#")
        else { return nil }
        return url
    }

    /// Every configured address, normalized (see ``normalized(_:)``).
    ///
    /// - Parameters:
    ///   - texts: The configured addresses.
    ///   - invalid: Makes the error for an address that is not such a URL, from the address as ``redacted(_:)`` gives
    ///     it.
    /// - Returns: The normalized URLs, in order.
    /// - Throws: The error `invalid` made for the first address that is not a URL with a host and no user
    ///   information, query or fragment.
    package static func normalized<Failure: Error>(
        _ texts: [String],
        invalid: (_ redacted: String) -> Failure
    ) throws(Failure) -> [String] {
        var urls: [String] = []
        for text in texts {
            guard let url = Self.normalized(text) else { throw invalid(Self.redacted(text)) }
            urls.append(url)
        }
        return urls
    }

    /// A configured address as an error may show it: user information masked, query and fragment left out.
    ///
    /// - Parameter text: The configured address, such as `http://user:secret@10.0.0.1:2379/?token=x`.
    /// - Returns: The address without its secrets, such as `http://********@10.0.0.1:2379/`.
    package static func redacted(_ text: String) -> String {
        var url = Substring(text)
        if let end = url.firstIndex(where: { $0 == "?" || $0 == "#" }) { url = url[..<end] }
        let authorityStart = url.firstRange(of: "://")?.upperBound ?? url.startIndex
        let authorityEnd = url[authorityStart...].firstIndex(of: "/") ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else { return String(url) }
        return String(url[..<authorityStart]) + "********" + String(url[at...])
    }
}
