// SPDX-License-Identifier: Apache-2.0

/// A network address of a service: a host, a port and an optional weight.
///
/// The host is a DNS name, an IPv4 address or an IPv6 address (stored without brackets). The weight is
/// used by consumers that spread load over several endpoints, such as a consistent-hashing memcached pool.
///
/// The textual form is `host:port`, `[v6-address]:port`, with `?weight=N` appended when a weight is
/// set. ``description`` prints exactly that form, and ``init(parsing:defaultPort:)`` parses it back to an
/// equal value:
///
/// ```swift
/// let primary = try Endpoint(parsing: "db-1.internal:5432")
/// let cache = try Endpoint(parsing: "[fd00::11]:11211?weight=2")
/// print(cache)  // [fd00::11]:11211?weight=2
/// ```
public struct Endpoint: Hashable, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// The host name or address, without brackets around IPv6 addresses.
    public var host: String
    /// The TCP port, from 1 to 65535.
    public var port: Int
    /// A relative weight for load distribution, or `nil` for the consumer's default (usually 1).
    public var weight: Int?

    /// Creates an endpoint from its parts, without validating them.
    ///
    /// Use ``init(parsing:defaultPort:)`` for text that comes from configuration or discovery.
    ///
    /// - Parameters:
    ///   - host: A DNS name, IPv4 address or IPv6 address (without brackets).
    ///   - port: The TCP port.
    ///   - weight: A relative weight, or `nil`.
    public init(host: String, port: Int, weight: Int? = nil) {
        self.host = host
        self.port = port
        self.weight = weight
    }

    /// `true` when ``host`` is an IPv6 address, which the textual form puts in brackets.
    public var isIPv6: Bool { self.host.contains(":") }

    /// The `host:port` text, with brackets around an IPv6 host and without the weight.
    public var hostAndPort: String {
        self.isIPv6 ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// The textual form, which ``init(parsing:defaultPort:)`` parses back to an equal endpoint.
    public var description: String {
        guard let weight = self.weight else { return self.hostAndPort }
        return "\(self.hostAndPort)?weight=\(weight)"
    }

    /// Parses the textual form; returns `nil` where ``init(parsing:defaultPort:)`` would throw.
    ///
    /// - Parameter description: Text such as `127.0.0.1:11211`.
    public init?(_ description: String) {
        guard let endpoint = try? Endpoint(parsing: description) else { return nil }
        self = endpoint
    }

    /// Parses `host:port`, `[v6-address]:port`, optionally followed by `?weight=N`.
    ///
    /// - Parameters:
    ///   - text: The text to parse. It must not contain white space.
    ///   - defaultPort: The port to use when the text has none; when `nil`, a port is required.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidEndpoint``, whose message quotes the
    ///   text and says what is wrong with it.
    public init(parsing text: String, defaultPort: Int? = nil) throws(BeaconError) {
        var parser = EndpointParser(text: text, defaultPort: defaultPort)
        self = try parser.parse()
    }

    /// Parses a comma-separated list of endpoints, such as `a:11211,b:11211?weight=2`.
    ///
    /// Empty items (from a trailing comma or doubled commas) are ignored; white space around items is
    /// allowed.
    ///
    /// - Parameters:
    ///   - text: The list to parse.
    ///   - defaultPort: The port to use for items that have none.
    /// - Returns: The endpoints in the order they appear.
    /// - Throws: ``BeaconError`` for the first item that is not a valid endpoint.
    public static func list(parsing text: String, defaultPort: Int? = nil) throws(BeaconError) -> [Endpoint] {
        var result: [Endpoint] = []
        for item in text.split(separator: ",") {
            let trimmed = item.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            result.append(try Endpoint(parsing: trimmed, defaultPort: defaultPort))
        }
        return result
    }

    private enum CodingKeys: String, CodingKey {
        case host
        case port
        case weight
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = self.firstIndex(where: { !isSpace($0) }),
            let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
