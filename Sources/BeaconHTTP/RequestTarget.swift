// SPDX-License-Identifier: Apache-2.0

/// The parts of a request URL that the client needs besides the URL itself.
struct RequestTarget: Sendable {
    /// `scheme://host:port/path`: no user information, query or fragment, so it can be logged and put in errors.
    var redacted: String

    /// `scheme://host:port` in lower case, the key of the per-host connection limit.
    var hostKey: String

    /// The URL's host as written (an IPv6 literal keeps its brackets).
    var host: String

    /// The URL's port, or the scheme's default.
    var port: Int

    /// The URL's scheme in lower case.
    var scheme: String

    /// What follows the authority: path, query and fragment, as written.
    var rest: Substring

    /// Splits an absolute URL such as `http://user:pw@host:2379/v3/kv/range?x=1`.
    ///
    /// - Parameter url: The URL. Anything without `scheme://` yields a target whose redacted form is `"<invalid URL>"`:
    ///   libcurl then reports the malformed URL itself.
    init(url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            self.redacted = "<invalid URL>"
            self.hostKey = ""
            self.host = ""
            self.port = 0
            self.scheme = ""
            self.rest = ""
            return
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let afterScheme = url[schemeEnd.upperBound...]
        let endsAuthority: (Character) -> Bool = { $0 == "/" || $0 == "?" || $0 == "#" }
        let endsPath: (Character) -> Bool = { $0 == "?" || $0 == "#" }
        let authorityEnd = afterScheme.firstIndex(where: endsAuthority) ?? afterScheme.endIndex
        var authority = afterScheme[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        let rest = afterScheme[authorityEnd...]
        let pathEnd = rest.firstIndex(where: endsPath) ?? rest.endIndex
        let path = rest[..<pathEnd]

        var host = authority
        var port = scheme == "https" ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]"),
            let explicitPort = Int(authority[authority.index(after: colon)...])
        {
            host = authority[..<colon]
            port = explicitPort
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.rest = rest
        self.redacted = "\(scheme)://\(authority)\(path)"
        self.hostKey = "\(scheme)://\(host.lowercased()):\(port)"
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded up, at least 1 (libcurl reads 0 as "no timeout").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = self.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(clamping: milliseconds))
    }

    /// The duration in whole seconds, rounded up, at least 1.
    var curlSeconds: Int {
        (self.curlMilliseconds + 999) / 1000
    }
}
