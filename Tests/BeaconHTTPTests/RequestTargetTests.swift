// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconHTTP

@Suite("HTTP request targets")
struct RequestTargetTests {
    @Test("a URL is split into scheme, host, port and the rest; user information never reaches the redacted form")
    func split() {
        let target = RequestTarget(url: "HTTP://user:secret@Etcd.Example:2379/v3/kv/range?x=1#f")
        #expect(target.scheme == "http")
        #expect(target.host == "Etcd.Example")
        #expect(target.port == 2379)
        #expect(target.rest == "/v3/kv/range?x=1#f")
        #expect(target.redacted == "http://Etcd.Example:2379/v3/kv/range")
        #expect(target.hostKey == "http://etcd.example:2379")
    }

    @Test("default ports, IPv6 literals, no path")
    func defaults() {
        #expect(RequestTarget(url: "https://example.org").port == 443)
        #expect(RequestTarget(url: "http://example.org/").port == 80)
        let v6 = RequestTarget(url: "http://[::1]:2379/v3")
        #expect(v6.host == "[::1]")
        #expect(v6.port == 2379)
        let v6Default = RequestTarget(url: "http://[fe80::1]/v3")
        #expect(v6Default.host == "[fe80::1]")
        #expect(v6Default.port == 80)
        #expect(v6Default.hostKey == "http://[fe80::1]:80")
    }

    @Test("a URL without a scheme gives a target whose redacted form says so")
    func invalid() {
        #expect(RequestTarget(url: "etcd:2379/v3").redacted == "<invalid URL>")
    }
}
