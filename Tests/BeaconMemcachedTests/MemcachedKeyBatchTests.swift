// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconMemcached

/// How `getMulti` maps the keys the servers return back to the requested keys, without servers.
@Suite("MemcachedKeyBatch")
struct MemcachedKeyBatchTests {
    private func position(_ batch: inout MemcachedKeyBatch, _ key: String) -> Int? {
        Array(key.utf8).withUnsafeBytes { batch.position(of: $0) }
    }

    @Test("Keys answered server by server, each server in request order, map back to their positions")
    func serverOrder() throws {
        let keys = (0..<100).map { "beacon:key:\($0)" }
        var batch = try MemcachedKeyBatch(keys, rules: .ascii)
        #expect(batch.count == 100)
        // Three servers, the third holding few keys (long gaps between them), read one after the other.
        let order =
            (0..<100).filter { $0 % 7 < 3 } + (0..<100).filter { $0 % 7 >= 3 && $0 % 7 < 6 }
            + (0..<100).filter { $0 % 7 == 6 }
        #expect(order.count == 100)
        for expected in order {
            #expect(self.position(&batch, keys[expected]) == expected)
        }
    }

    @Test("Keys in any order map back to their positions, through the table once the scan misses")
    func anyOrder() throws {
        let keys = (0..<300).map { "k\($0 * 7919 % 1000)" } + ["a", "bb", "ccc", String(repeating: "x", count: 250)]
        var batch = try MemcachedKeyBatch(keys, rules: .ascii)
        var generator = SplitMix(seed: 42)
        for expected in keys.indices.shuffled(using: &generator) {
            #expect(self.position(&batch, keys[expected]) == expected)
        }
    }

    @Test("A key that was not requested, or differs in one byte or in length, has no position")
    func unknownKeys() throws {
        let keys = ["user:1:profile", "user:2:profile", "short", "exactly8"]
        var batch = try MemcachedKeyBatch(keys, rules: .ascii)
        for key in ["user:3:profile", "user:1:profilE", "user:1:profile:", "shor", "shorT", "exactly9", "", "x"] {
            #expect(self.position(&batch, key) == nil)
        }
        // The table is used once the scan has missed a few times; it must agree.
        for key in ["user:3:profile", "nope", "neither", "absent", "gone"] {
            #expect(self.position(&batch, key) == nil)
        }
        for (expected, key) in keys.enumerated() {
            #expect(self.position(&batch, key) == expected)
        }
    }

    @Test("A repeated key maps to one of its positions")
    func repeatedKeys() throws {
        let keys = ["a", "b", "a", "c", "a"]
        var batch = try MemcachedKeyBatch(keys, rules: .ascii)
        let found = try #require(self.position(&batch, "a"))
        #expect(keys[found] == "a")
        #expect(self.position(&batch, "c") == 3)
    }

    @Test("The first key refused fails the whole batch, naming its position and the reason")
    func invalidKeys() {
        let cases: [(String, MemcachedKeyRules, String)] = [
            ("", .ascii, "the key is empty; memcached keys have 1 to 250 bytes"),
            (String(repeating: "k", count: 251), .binary, "the key has 251 bytes; memcached keys have at most 250"),
            ("with space", .ascii, "byte 4 (counted from 0) of the key is 0x20, a space; " + Self.asciiRule),
            ("tab\tkey", .ascii, "byte 3 (counted from 0) of the key is 0x09, a control byte; " + Self.asciiRule),
            ("del\u{7F}", .ascii, "byte 3 (counted from 0) of the key is 0x7F, a control byte; " + Self.asciiRule),
        ]
        for (key, rules, reason) in cases {
            #expect {
                _ = try MemcachedKeyBatch(["fine", key, "also fine", "bad too"], rules: rules)
            } throws: { error in
                guard let error = error as? MemcachedError else { return false }
                return error.code == .invalidKey && error.key == key
                    && error.message == "key 1 (counted from 0) of the 4 requested: " + reason
            }
        }
        // The binary protocol carries spaces; UTF-8 is fine in both.
        #expect(throws: Never.self) { try MemcachedKeyBatch(["with space", "clé"], rules: .binary) }
        #expect(throws: Never.self) {
            try MemcachedKeyBatch(["clé", String(repeating: "k", count: 250)], rules: .ascii)
        }
    }

    private static let asciiRule =
        "the ASCII protocol cannot carry spaces or control bytes in keys (the binary protocol can)"

    @Test("Byte comparison and hashing agree for every length around the word size")
    func equalAndHash() {
        for count in 1...40 {
            let lhs = [UInt8]((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            var rhs = lhs
            lhs.withUnsafeBytes { left in
                rhs.withUnsafeMutableBytes { right in
                    #expect(MemcachedKeyBatch.equal(left.baseAddress!, right.baseAddress!, count))
                    #expect(
                        MemcachedKeyBatch.hash(left.baseAddress!, count, seed: 1)
                            == MemcachedKeyBatch.hash(right.baseAddress!, count, seed: 1)
                    )
                    for index in 0..<count {
                        right[index] ^= 0x01
                        #expect(!MemcachedKeyBatch.equal(left.baseAddress!, right.baseAddress!, count))
                        right[index] ^= 0x01
                    }
                }
            }
        }
    }
}

/// A small deterministic generator, so that a failing order can be replayed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
