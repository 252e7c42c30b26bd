// SPDX-License-Identifier: Apache-2.0

import Beacon
import Logging
import Testing

@testable import BeaconMemcached

extension MemcachedKeyRules {
    /// The rules of a pool on the ASCII protocol, without a key prefix.
    static let ascii = MemcachedKeyRules(binaryProtocol: false, keyPrefix: nil)
    /// The rules of a pool on the binary protocol, without a key prefix.
    static let binary = MemcachedKeyRules(binaryProtocol: true, keyPrefix: nil)

    /// Whether the rules accept a key.
    func accepts(_ key: String) -> Bool {
        Array(key.utf8).withUnsafeBufferPointer { self.accepts($0) }
    }
}

/// Which keys memcached takes, the errors that say why it refuses one, and `server(forKey:)`'s PHP rules. No I/O.
@Suite("Memcached key rules", .timeLimit(.minutes(1)))
struct MemcachedKeyRulesTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("1 to 250 bytes in both protocols, counted in UTF-8 bytes, not characters")
    func length() {
        for rules in [MemcachedKeyRules.ascii, .binary] {
            #expect(!rules.accepts(""))
            #expect(rules.accepts("k"))
            #expect(rules.accepts(String(repeating: "k", count: 250)))
            #expect(!rules.accepts(String(repeating: "k", count: 251)))
            #expect(rules.accepts(String(repeating: "é", count: 125)))
            #expect(!rules.accepts(String(repeating: "é", count: 125) + "k"))
            #expect(!rules.accepts(String(repeating: "k", count: 100_000)))
        }
    }

    @Test("the key prefix counts in the 250 bytes")
    func prefix() {
        for binaryProtocol in [false, true] {
            let rules = MemcachedKeyRules(binaryProtocol: binaryProtocol, keyPrefix: "shop:")
            #expect(rules.maximumLength == 245)
            #expect(rules.accepts(String(repeating: "k", count: 245)))
            #expect(!rules.accepts(String(repeating: "k", count: 246)))
            let error = rules.error(for: String(repeating: "k", count: 246))
            #expect(error.code == .invalidKey)
            #expect(
                error.message
                    == "the key has 246 bytes; memcached keys have at most 250, and the key prefix takes 5 of them, "
                    + "which leaves 245"
            )
        }
        let longest = MemcachedKeyRules(binaryProtocol: false, keyPrefix: String(repeating: "p", count: 127))
        #expect(longest.accepts(String(repeating: "k", count: 123)))
        #expect(!longest.accepts(String(repeating: "k", count: 124)))
        #expect(MemcachedKeyRules(binaryProtocol: false, keyPrefix: "").maximumLength == 250)
    }

    @Test("the ASCII protocol refuses spaces and control bytes, wherever they are; the binary protocol takes them")
    func bytes() {
        for value in UInt8(0)...0x7F {
            let refused = value <= 0x20 || value == 0x7F
            let character = String(UnicodeScalar(value))
            let longest = String(repeating: "k", count: 249) + character
            for key in [character, "a" + character, "ab" + character + "cd", longest] {
                #expect(MemcachedKeyRules.ascii.accepts(key) == !refused, "byte \(value)")
                #expect(MemcachedKeyRules.binary.accepts(key), "byte \(value)")
            }
        }
        #expect(MemcachedKeyRules.ascii.accepts("clé:ключ:鍵:🔑"))
    }

    @Test("the message says which byte is refused, where, and why")
    func byteMessage() {
        let error = MemcachedKeyRules.ascii.error(for: "user:4 2\n")
        #expect(error.code == .invalidKey)
        #expect(error.key == "user:4 2\n")
        #expect(
            error.message
                == "byte 6 (counted from 0) of the key is 0x20, a space; the ASCII protocol cannot carry spaces or "
                + "control bytes in keys (the binary protocol can)"
        )
        let control = MemcachedKeyRules.ascii.error(for: "é\u{1}")
        #expect(control.message.hasPrefix("byte 2 (counted from 0) of the key is 0x01, a control byte;"))
        #expect(
            MemcachedKeyRules.ascii.error(for: "").message == "the key is empty; memcached keys have 1 to 250 bytes"
        )
        #expect(
            MemcachedKeyRules.ascii.error(for: String(repeating: "é", count: 200)).message
                == "the key has 400 bytes; memcached keys have at most 250"
        )
    }

    @Test("a long key is cut in the description, with its length; the error keeps it whole")
    func truncatedDescription() {
        let key = String(repeating: "k", count: 100_000)
        let error = MemcachedKeyRules.ascii.error(for: key)
        #expect(error.key == key)
        let shown = "\"" + String(repeating: "k", count: 64) + "…\" (100000 bytes)"
        #expect(
            error.description
                == "invalidKey for key \(shown): the key has 100000 bytes; memcached keys have at most 250"
        )
        #expect(error.debugDescription.count < 300)
        // Up to 64 characters, the key is shown whole.
        let short = String(repeating: "é", count: 64)
        #expect(MemcachedError(.invalidKey, "m", key: short).description == "invalidKey for key \"\(short)\": m")
        // Control bytes are escaped, and count as one character each.
        let escaped = MemcachedError(.invalidKey, "m", key: "a b\n" + String(repeating: "x", count: 70)).description
        #expect(escaped == "invalidKey for key \"a b\\u{a}" + String(repeating: "x", count: 60) + "…\" (74 bytes): m")
    }

    @Test("server(forKey:) refuses what PHP's getServerByKey refuses: empty or over 250 bytes, prefix not counted")
    func placement() throws {
        let servers = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211")
        for configuration in [
            MemcachedPool.Configuration(),
            MemcachedPool.Configuration(binaryProtocol: true),
            MemcachedPool.Configuration(keyPrefix: "shop:"),
        ] {
            let pool = try MemcachedPool(servers: servers, configuration: configuration, logger: Self.logger)
            defer { pool.close() }
            for key in ["", String(repeating: "k", count: 251), String(repeating: "é", count: 126)] {
                let error = #expect(throws: MemcachedError.self) { try pool.server(forKey: key) }
                #expect(error?.code == .invalidKey)
                #expect(error?.key == key)
                let bytes = #expect(throws: MemcachedError.self) { try pool.server(forKeyBytes: Array(key.utf8)) }
                #expect(bytes?.code == .invalidKey)
            }
            // PHP places these: 250 bytes (the prefix is not counted), spaces and control bytes in any protocol.
            for key in [String(repeating: "k", count: 250), "has space", "line\nbreak", "nul\0", "clé"] {
                #expect(servers.contains(try pool.server(forKey: key)))
                #expect(try pool.server(forKeyBytes: Array(key.utf8)) == pool.server(forKey: key))
            }
            #expect(servers.contains(try pool.server(forKeyBytes: [UInt8](repeating: 0xFF, count: 250))))
            #expect(throws: MemcachedError.self) { try pool.server(forKeyBytes: [UInt8](repeating: 0xFF, count: 251)) }
        }
    }

    @Test("a dynamic pool refuses the key before it looks for servers")
    func dynamicPlacement() throws {
        let pool = DynamicMemcachedPool(source: StaticSource(), servers: .key("/memcached"), logger: Self.logger)
        defer { pool.close() }
        let empty = #expect(throws: MemcachedError.self) { try pool.server(forKey: "") }
        #expect(empty?.code == .invalidKey)
        let closed = #expect(throws: MemcachedError.self) { try pool.server(forKey: "k") }
        #expect(closed?.code == .closed)
        try pool.update(servers: [Endpoint(host: "10.0.0.1", port: 11211)])
        let error = #expect(throws: MemcachedError.self) { try pool.server(forKey: String(repeating: "k", count: 251)) }
        #expect(error?.code == .invalidKey)
        #expect(try pool.server(forKey: String(repeating: "k", count: 250)).host == "10.0.0.1")
    }

    @Test("a connection's server(forKey:) refuses what the pool's refuses and places the rest alike")
    func connectionPlacement() throws {
        let servers = try Endpoint.list(parsing: "10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211")
        let pool = try MemcachedPool(servers: servers, logger: Self.logger)
        defer { pool.close() }
        try pool.withBlockingConnection { connection throws in
            for refused in ["", String(repeating: "k", count: 251)] {
                let error = #expect(throws: MemcachedError.self) { try connection.server(forKey: refused) }
                #expect(error?.code == .invalidKey)
            }
            for key in (0..<50).map({ "user:\($0)" }) {
                #expect(try connection.server(forKey: key) == pool.server(forKey: key))
            }
        }
    }
}
