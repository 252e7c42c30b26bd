// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("Endpoint parsing and printing")
struct EndpointTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var text: String
        var host: String
        var port: Int
        var weight: Int?
        var printed: String?
        var testDescription: String { self.text }
    }

    static let valid: [Valid] = [
        Valid(text: "127.0.0.1:5432", host: "127.0.0.1", port: 5432),
        Valid(text: "db-1.internal:5432", host: "db-1.internal", port: 5432),
        Valid(text: "localhost:1", host: "localhost", port: 1),
        Valid(text: "memcached_a:65535", host: "memcached_a", port: 65535),
        Valid(text: "[::1]:11211", host: "::1", port: 11211),
        Valid(text: "[fd00::11]:11211?weight=2", host: "fd00::11", port: 11211, weight: 2),
        Valid(text: "[fe80::1%eth0]:80", host: "fe80::1%eth0", port: 80),
        Valid(text: "[::ffff:10.0.0.1]:6379", host: "::ffff:10.0.0.1", port: 6379),
        Valid(text: "10.0.0.12:11211?weight=10", host: "10.0.0.12", port: 11211, weight: 10),
        Valid(text: "CACHE.example.COM:443", host: "CACHE.example.COM", port: 443),
        Valid(text: "host:0080", host: "host", port: 80, printed: "host:80"),
    ]

    @Test("valid text parses and prints back", arguments: Self.valid)
    func validText(_ example: Valid) throws {
        let endpoint = try Endpoint(parsing: example.text)
        #expect(endpoint.host == example.host)
        #expect(endpoint.port == example.port)
        #expect(endpoint.weight == example.weight)
        #expect(endpoint.description == (example.printed ?? example.text))
        #expect(try Endpoint(parsing: endpoint.description) == endpoint)
        #expect(Endpoint(example.text) == endpoint)
    }

    static let invalid: [(text: String, reason: String)] = [
        ("", "empty"),
        ("host:", "port is missing"),
        (":80", "host is missing"),
        ("host:99999", "out of range"),
        ("host:0", "out of range"),
        ("host:abc", "not a number"),
        ("host:-1", "not a number"),
        ("[::1", "closing bracket"),
        ("[::1]", "port is missing"),
        ("[::1]x80", "expected ':'"),
        ("[]:80", "empty"),
        ("[not-v6]:80", "not an IPv6 address"),
        ("::1:80", "must be written in brackets"),
        ("db host:5432", "white space"),
        (" host:1", "white space"),
        ("host:1\n", "white space"),
        ("host", "port is missing"),
        ("bad/host:80", "not allowed"),
        ("a..b:80", "empty label"),
        ("300.1.2.3:80", "above 255"),
        ("host:80?weight=x", "not a whole number"),
        ("host:80?color=red", "unknown option"),
    ]

    @Test("invalid text throws an error that quotes it and says why", arguments: Self.invalid)
    func invalidText(_ example: (text: String, reason: String)) {
        let error = #expect(throws: BeaconError.self) { try Endpoint(parsing: example.text) }
        #expect(error?.code == .invalidEndpoint)
        #expect(error?.text == example.text)
        let description = error?.description ?? ""
        #expect(description.contains(example.reason), "\(description)")
        #expect(Endpoint(example.text) == nil)
    }

    @Test("error messages escape the quoted text")
    func quotedText() {
        let error = #expect(throws: BeaconError.self) { try Endpoint(parsing: "a\"b\n:1") }
        #expect(error?.description.hasPrefix(#"invalid endpoint "a\"b\n:1""#) == true)
    }

    @Test("a default port applies only when the text has none")
    func defaultPort() throws {
        #expect(try Endpoint(parsing: "cache", defaultPort: 11211) == Endpoint(host: "cache", port: 11211))
        #expect(try Endpoint(parsing: "[::1]", defaultPort: 11211) == Endpoint(host: "::1", port: 11211))
        #expect(try Endpoint(parsing: "cache:1", defaultPort: 11211).port == 1)
        #expect(throws: BeaconError.self) { try Endpoint(parsing: "cache:", defaultPort: 11211) }
    }

    @Test("lists are comma separated")
    func lists() throws {
        let endpoints = try Endpoint.list(parsing: "a:1, [::1]:2?weight=3,,b", defaultPort: 9)
        #expect(endpoints.map(\.description) == ["a:1", "[::1]:2?weight=3", "b:9"])
        #expect(throws: BeaconError.self) { try Endpoint.list(parsing: "a:1,b:") }
    }

    @Test("endpoints are Codable")
    func codable() throws {
        let endpoint = Endpoint(host: "::1", port: 11211, weight: 2)
        #expect(endpoint.hostAndPort == "[::1]:11211")
        #expect(endpoint.isIPv6)
    }
}
