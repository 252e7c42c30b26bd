// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// Where and how to connect to PostgreSQL: hosts and ports, database, user, password and libpq options.
///
/// Usually read from discovery (see ``init(parsing:)`` and ``init(entries:prefix:)``), in one of three formats
/// documented in `Documentation/Postgres.md`. The parameters are handed to libpq as keyword/value arrays, never as
/// a conninfo string, so no value can inject another option.
///
/// ``description`` shows the parameters as a URI with the password replaced by `***`; so does `dump` (through
/// ``customMirror``).
///
/// ```swift
/// let parameters = try PostgresParameters(
///     parsing: KeyValue(key: "/db/main", string: "postgresql://app:s3cret@10.0.0.5:5432/app?sslmode=require")
/// )
/// print(parameters)  // postgresql://app:***@10.0.0.5:5432/app?sslmode=require
/// ```
public struct PostgresParameters: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
    /// The servers, tried in order (libpq's multi-host connect); at least one.
    public var endpoints: [Endpoint]
    /// The database name; `nil` uses libpq's default (the user name).
    public var database: String?
    /// The role to connect as; `nil` uses libpq's default (the operating system user).
    public var user: String?
    /// The password, or `nil` for none. Never printed.
    public var password: String?
    /// libpq's `sslmode`; `nil` uses libpq's default (`prefer`).
    public var sslMode: SSLMode?
    /// How long one server may take to accept a connection (reset when libpq moves on to the next host).
    /// Enforced by Beacon, because libpq's non-blocking connect ignores `connect_timeout`. Default: 10 seconds.
    public var connectTimeout: Duration
    /// The `application_name` the server shows in `pg_stat_activity`, or `nil`.
    public var applicationName: String?
    /// Which kind of server to accept among the hosts (`target_session_attrs`); `nil` accepts any.
    public var targetSessionAttributes: TargetSessionAttributes?

    /// Creates parameters.
    ///
    /// - Parameters:
    ///   - endpoints: The servers, tried in order.
    ///   - database: The database name.
    ///   - user: The role.
    ///   - password: The password.
    ///   - sslMode: libpq's `sslmode`.
    ///   - connectTimeout: How long one server may take to accept a connection.
    ///   - applicationName: The `application_name`.
    ///   - targetSessionAttributes: Which kind of server to accept.
    public init(
        endpoints: [Endpoint],
        database: String? = nil,
        user: String? = nil,
        password: String? = nil,
        sslMode: SSLMode? = nil,
        connectTimeout: Duration = .seconds(10),
        applicationName: String? = nil,
        targetSessionAttributes: TargetSessionAttributes? = nil
    ) {
        self.endpoints = endpoints
        self.database = database
        self.user = user
        self.password = password
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.targetSessionAttributes = targetSessionAttributes
    }

    /// The parameters as a `postgresql://` URI with the password shown as `***`.
    public var description: String {
        var result = "postgresql://"
        if let user = self.user {
            result += Self.percentEncoded(user)
            if self.password != nil { result += ":***" }
            result += "@"
        } else if self.password != nil {
            result += ":***@"
        }
        result += self.endpoints.map(\.hostAndPort).joined(separator: ",")
        if let database = self.database { result += "/" + Self.percentEncoded(database) }
        var query: [String] = []
        if let sslMode = self.sslMode { query.append("sslmode=\(sslMode)") }
        if self.connectTimeout != .seconds(10) { query.append("connect_timeout=\(self.connectTimeoutText)") }
        if let name = self.applicationName { query.append("application_name=\(Self.percentEncoded(name))") }
        if let attributes = self.targetSessionAttributes { query.append("target_session_attrs=\(attributes)") }
        if !query.isEmpty { result += "?" + query.joined(separator: "&") }
        return result
    }

    /// The connect timeout in seconds, as the URI and JSON forms write it (`5`, `2.5`).
    private var connectTimeoutText: String {
        let (seconds, attoseconds) = self.connectTimeout.components
        guard attoseconds != 0 else { return String(seconds) }
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// A mirror that shows the password as `***`.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "endpoints": self.endpoints as Any,
                "database": self.database as Any,
                "user": self.user as Any,
                "password": (self.password == nil ? nil : "***") as String? as Any,
                "sslMode": self.sslMode as Any,
                "connectTimeout": self.connectTimeout as Any,
                "applicationName": self.applicationName as Any,
                "targetSessionAttributes": self.targetSessionAttributes as Any,
            ]
        )
    }

    /// The keyword/value pairs handed to `PQconnectStartParams`.
    var libpqOptions: [(String, String)] {
        var options: [(String, String)] = [
            ("host", self.endpoints.map(\.host).joined(separator: ",")),
            ("port", self.endpoints.map { String($0.port) }.joined(separator: ",")),
        ]
        if self.endpoints.allSatisfy({ $0.isNumericAddress }) {
            // A numeric hostaddr guarantees that libpq does no (blocking) DNS lookup.
            options.append(("hostaddr", self.endpoints.map(\.host).joined(separator: ",")))
        }
        if let database = self.database { options.append(("dbname", database)) }
        if let user = self.user { options.append(("user", user)) }
        if let password = self.password { options.append(("password", password)) }
        if let sslMode = self.sslMode { options.append(("sslmode", sslMode.description)) }
        if let name = self.applicationName { options.append(("application_name", name)) }
        if let attributes = self.targetSessionAttributes {
            options.append(("target_session_attrs", attributes.description))
        }
        return options
    }

    /// Replaces every occurrence of the password in a text by `***` (a guard for messages that might echo it).
    func masking(_ text: String) -> String {
        guard let password = self.password, password.count >= 3, text.contains(password) else { return text }
        return text.replacing(password, with: "***")
    }

    /// Percent-encodes everything but unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%"
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return result
    }
}

extension Endpoint {
    /// Whether the host is an IPv4 or IPv6 address rather than a name.
    var isNumericAddress: Bool {
        if self.isIPv6 { return true }
        let parts = self.host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in UInt8(part) != nil }
    }
}
