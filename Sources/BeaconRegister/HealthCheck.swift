// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// How a ``RegistrationWatchdog`` decides that the instance is healthy.
///
/// A struct rather than an enum so that new kinds of checks can be added without breaking exhaustive `switch`es.
///
/// ```swift
/// let web: HealthCheck = .http("http://127.0.0.1:8001/health")   // a 2xx answer
/// let port: HealthCheck = .tcp(Endpoint(host: "127.0.0.1", port: 8001))  // a TCP connect
/// let custom: HealthCheck = .custom("database") { try await pool.ping() }
/// ```
///
/// Every check is bounded by ``RegistrationWatchdog/Configuration/checkTimeout``.
public struct HealthCheck: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case http(url: String)
        case tcp(Endpoint)
        case custom(name: String, body: @Sendable () async throws -> Void)
    }

    let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    /// An HTTP `GET` that must answer with a 2xx status (redirects are not followed).
    ///
    /// - Parameter url: An absolute `http://` or `https://` URL, such as `http://127.0.0.1:8001/health`. User
    ///   information and the query are never logged.
    /// - Returns: The check.
    public static func http(_ url: String) -> HealthCheck {
        HealthCheck(.http(url: url))
    }

    /// A TCP connection that must be accepted (it is closed at once; nothing is sent).
    ///
    /// - Parameter endpoint: The host (a name or an address) and port to connect to.
    /// - Returns: The check.
    public static func tcp(_ endpoint: Endpoint) -> HealthCheck {
        HealthCheck(.tcp(endpoint))
    }

    /// A check of your own: healthy when `body` returns, unhealthy when it throws.
    ///
    /// `body` runs on the cooperative pool: it must not block. It is cancelled when
    /// ``RegistrationWatchdog/Configuration/checkTimeout`` passes or the watchdog stops.
    ///
    /// - Parameters:
    ///   - name: What the check is, for logs (no secrets).
    ///   - body: Returns when the instance is healthy; throws (the error is logged) when not.
    /// - Returns: The check.
    public static func custom(_ name: String, _ body: @escaping @Sendable () async throws -> Void) -> HealthCheck {
        HealthCheck(.custom(name: name, body: body))
    }

    /// What is checked, such as `GET http://127.0.0.1:8001/health` or `TCP 127.0.0.1:8001`, without user
    /// information or query.
    public var description: String {
        switch self.kind {
        case .http(let url): "GET \(Self.redacted(url))"
        case .tcp(let endpoint): "TCP \(endpoint)"
        case .custom(let name, _): name
        }
    }

    /// What the check connects to: the URL without secrets, or `host:port`; `nil` for a custom check.
    var target: String? {
        switch self.kind {
        case .http(let url): Self.redacted(url)
        case .tcp(let endpoint): "\(endpoint)"
        case .custom: nil
        }
    }

    /// A URL without user information, query or fragment, so that it can be logged.
    static func redacted(_ url: String) -> String {
        var rest = Substring(url)
        var scheme: Substring = ""
        if let range = rest.firstRange(of: "://") {
            scheme = rest[..<range.upperBound]
            rest = rest[range.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<end]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
        }
        return String(scheme + rest)
    }
}
