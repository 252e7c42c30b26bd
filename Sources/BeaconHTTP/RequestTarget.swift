// SPDX-License-Identifier: Apache-2.0

/// The parts of a request URL that the client needs besides the URL itself.
///
/// A class, so that the client's cache of parsed URLs (``HTTPClient``) hands out one reference per request.
final class RequestTarget: Sendable {
    /// `scheme://host:port` in lower case, the key of the per-host connection limit.
    let hostKey: String

    /// The URL's host as written (an IPv6 literal keeps its brackets).
    let host: String

    /// The URL's port, or the scheme's default.
    let port: Int

    /// The URL's scheme in lower case.
    let scheme: String

    /// What follows the authority: path, query and fragment, as written.
    let rest: Substring

    /// The URL as given, and where its authority without user information and its path lie in its UTF-8 bytes
    /// (`nil` for a URL without `scheme://`): ``redacted`` is made from them when an error or a log line needs it.
    private let url: String
    private let redactedParts: (authority: Range<Int>, path: Range<Int>)?

    /// `scheme://host:port/path`: no user information, query or fragment, so it can be logged and put in errors.
    var redacted: String {
        guard let parts = self.redactedParts else { return "<invalid URL>" }
        let bytes = Array(self.url.utf8)
        return self.scheme + "://" + String(decoding: bytes[parts.authority], as: UTF8.self)
            + String(decoding: bytes[parts.path], as: UTF8.self)
    }

    /// Splits an absolute URL such as `http://user:pw@host:2379/v3/kv/range?x=1`.
    ///
    /// Works on the URL's UTF-8 bytes (every delimiter is ASCII), so that splitting costs next to nothing on each
    /// request.
    ///
    /// - Parameter url: The URL. Anything without `scheme://` yields a target whose redacted form is `"<invalid URL>"`:
    ///   libcurl then reports the malformed URL itself.
    init(url: String) {
        self.url = url
        let bytes = Array(url.utf8)
        guard let schemeEnd = Self.schemeEnd(in: bytes) else {
            self.redactedParts = nil
            self.hostKey = ""
            self.host = ""
            self.port = 0
            self.scheme = ""
            self.rest = ""
            return
        }
        let scheme = Self.lowercased(bytes[..<schemeEnd])
        let authorityStart = schemeEnd + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count, !Self.endsAuthority(bytes[authorityEnd]) { authorityEnd += 1 }
        var hostStart = authorityStart
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            hostStart = at + 1
        }
        var pathEnd = authorityEnd
        while pathEnd < bytes.count, !Self.endsPath(bytes[pathEnd]) { pathEnd += 1 }

        var hostEnd = authorityEnd
        var port = scheme == "https" ? 443 : 80
        if let colon = bytes[hostStart..<authorityEnd].lastIndex(of: UInt8(ascii: ":")),
            !bytes[colon..<authorityEnd].contains(UInt8(ascii: "]")),
            let explicitPort = Int(String(decoding: bytes[(colon + 1)..<authorityEnd], as: UTF8.self))
        {
            hostEnd = colon
            port = explicitPort
        }
        self.scheme = scheme
        self.host = String(decoding: bytes[hostStart..<hostEnd], as: UTF8.self)
        self.port = port
        self.rest = url[url.utf8.index(url.utf8.startIndex, offsetBy: authorityEnd)...]
        self.redactedParts = (hostStart..<authorityEnd, authorityEnd..<pathEnd)
        self.hostKey = "\(scheme)://\(Self.lowercased(bytes[hostStart..<hostEnd])):\(port)"
    }

    private static func endsAuthority(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }

    private static func endsPath(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }

    /// The bytes as text with ASCII letters in lower case (other bytes as they are).
    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(where: { (65...90).contains($0) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        return String(decoding: bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Where the first `://` starts.
    private static func schemeEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3 else { return nil }
        for start in 0...(bytes.count - 3)
        where bytes[start] == UInt8(ascii: ":") && bytes[start + 1] == UInt8(ascii: "/")
            && bytes[start + 2] == UInt8(ascii: "/")
        {
            return start
        }
        return nil
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
