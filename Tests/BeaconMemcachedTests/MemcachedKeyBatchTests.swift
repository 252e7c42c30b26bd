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
        var batch = try MemcachedKeyBatch(keys, checksKeys: true)
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
        var batch = try MemcachedKeyBatch(keys, checksKeys: true)
        var generator = SplitMix(seed: 42)
        for expected in keys.indices.shuffled(using: &generator) {
            #expect(self.position(&batch, keys[expected]) == expected)
        }
    }

    @Test("A key that was not requested, or differs in one byte or in length, has no position")
    func unknownKeys() throws {
        let keys = ["user:1:profile", "user:2:profile", "short", "exactly8"]
        var batch = try MemcachedKeyBatch(keys, checksKeys: true)
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
        var batch = try MemcachedKeyBatch(keys, checksKeys: true)
        let found = try #require(self.position(&batch, "a"))
        #expect(keys[found] == "a")
        #expect(self.position(&batch, "c") == 3)
    }

    @Test("Invalid keys are refused with the reason, as single-key operations refuse them")
    func invalidKeys() {
        let cases: [(String, Bool, String)] = [
            ("", true, "the key is empty"),
            (String(repeating: "k", count: 251), false, "the key is longer than 250 bytes"),
            ("with space", true, "the ASCII protocol cannot carry spaces or control characters in keys"),
            ("tab\tkey", true, "the ASCII protocol cannot carry spaces or control characters in keys"),
            ("del\u{7F}", true, "the ASCII protocol cannot carry spaces or control characters in keys"),
        ]
        for (key, checksKeys, message) in cases {
            #expect {
                _ = try MemcachedKeyBatch(["fine", key], checksKeys: checksKeys)
            } throws: { error in
                guard let error = error as? MemcachedError else { return false }
                return error.code == .invalidKey && error.message == message && error.key == key
            }
        }
        // The binary protocol carries spaces; UTF-8 is fine in both.
        #expect(throws: Never.self) { try MemcachedKeyBatch(["with space", "clé"], checksKeys: false) }
        #expect(throws: Never.self) {
            try MemcachedKeyBatch(["clé", String(repeating: "k", count: 250)], checksKeys: true)
        }
    }

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
