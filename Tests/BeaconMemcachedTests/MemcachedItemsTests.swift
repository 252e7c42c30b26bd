// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconMemcached

/// `MemcachedItems` filled as `getMulti` fills it, from answers given in the order servers would give them,
/// without servers.
@Suite("MemcachedItems")
struct MemcachedItemsTests {
    /// An answer: a key as a server returns it, with its value, flags and token.
    struct Answer {
        var key: String
        var value: [UInt8]
        var flags: UInt32 = 0
        var cas: UInt64 = 0
    }

    /// The result of requesting `keys` when the servers return `answers`, in that order.
    func items(_ keys: [String], _ answers: [Answer]) throws -> MemcachedItems {
        if keys.isEmpty { return MemcachedItems() }
        var batch = try MemcachedKeyBatch(keys, rules: .ascii)
        var items = MemcachedItems(requestedKeys: keys)
        for answer in answers {
            Array(answer.key.utf8).withUnsafeBytes { key in
                answer.value.withUnsafeBytes { value in
                    items.record(
                        key: key,
                        MemcachedValueView(bytes: value, flags: answer.flags, cas: answer.cas),
                        batch: &batch
                    )
                }
            }
        }
        items.finish(batch)
        return items
    }

    @Test("Found and missing keys, by key, by position and in request order")
    func foundAndMissing() throws {
        let keys = ["a", "missing", "b", "c", "also-missing"]
        // Two servers: "b" on the first, "a" and "c" on the second, each answering in request order.
        let items = try self.items(
            keys,
            [
                Answer(key: "b", value: Array("B".utf8), flags: 2, cas: 20),
                Answer(key: "a", value: Array("A".utf8), flags: 1, cas: 10),
                Answer(key: "c", value: Array("C".utf8), flags: 3, cas: 30),
            ]
        )
        #expect(items.count == 3)
        #expect(!items.isEmpty)
        #expect(items.requestedKeys == keys)
        #expect(items["a"] == MemcachedItem(value: Array("A".utf8), flags: 1, cas: 10))
        #expect(items["b"] == MemcachedItem(value: Array("B".utf8), flags: 2, cas: 20))
        #expect(items["c"] == MemcachedItem(value: Array("C".utf8), flags: 3, cas: 30))
        #expect(items["missing"] == nil)
        #expect(items["not requested"] == nil)
        #expect(items.item(at: 0)?.cas == 10)
        #expect(items.item(at: 1) == nil)
        #expect(items.item(at: 2)?.flags == 2)
        #expect(items.item(at: 4) == nil)
        // Request order, not answer order; missing keys are skipped.
        #expect(items.map(\.key) == ["a", "b", "c"])
        #expect(items.map { Array($0.item.value) } == [Array("A".utf8), Array("B".utf8), Array("C".utf8)])
        #expect(items.underestimatedCount == 3)
    }

    @Test("A key requested twice is found at both positions, iterated twice, and once in the dictionary")
    func repeatedKeys() throws {
        let keys = ["a", "b", "a", "c", "a"]
        for answers in [
            // Answered once per request, or once only.
            ["a", "b", "a", "c", "a"], ["b", "a", "c"], ["a", "a", "a", "c", "b"],
        ] {
            let items = try self.items(
                keys,
                answers.map { Answer(key: $0, value: Array("value of \($0)".utf8), flags: 7, cas: 9) }
            )
            #expect(items.count == 5)
            #expect(items.map(\.key) == keys)
            for position in keys.indices {
                #expect(items.item(at: position).map { Array($0.value) } == Array("value of \(keys[position])".utf8))
            }
            #expect(items["a"]?.flags == 7)
            #expect(items.dictionary.count == 3)
        }
        // A repeated key that is absent stays absent at every position.
        let absent = try self.items(keys, [Answer(key: "b", value: [1])])
        #expect(absent.count == 1)
        #expect(absent["a"] == nil)
        #expect(absent.map(\.key) == ["b"])
    }

    @Test("An empty request, and a request where nothing is found")
    func empty() throws {
        let none = try self.items([], [])
        #expect(none.count == 0)
        #expect(none.isEmpty)
        #expect(none["a"] == nil)
        #expect(Array(none).isEmpty)
        #expect(none.dictionary.isEmpty)
        #expect(MemcachedItems().requestedKeys.isEmpty)

        let nothing = try self.items(["a", "b"], [])
        #expect(nothing.isEmpty)
        #expect(nothing["a"] == nil)
        #expect(nothing.item(at: 1) == nil)
        #expect(nothing.dictionary.isEmpty)
    }

    @Test("Zero-length and large values share one buffer and keep their bounds")
    func valueSizes() throws {
        let large = (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let keys = ["empty", "large", "small", "empty-too"]
        let items = try self.items(
            keys,
            [
                Answer(key: "empty", value: [], flags: 1),
                Answer(key: "large", value: large, flags: 2),
                Answer(key: "small", value: [42], flags: 3),
                Answer(key: "empty-too", value: [], flags: 4),
            ]
        )
        #expect(items.count == 4)
        #expect(items["empty"]?.value.isEmpty == true)
        #expect(items["empty"]?.flags == 1)
        #expect(items["empty-too"]?.value.isEmpty == true)
        #expect(items["large"].map { Array($0.value) } == large)
        #expect(items["small"].map { Array($0.value) } == [42])
        // The values are slices: read from their start index.
        let small = try #require(items["small"]?.value)
        #expect(small.first == 42)
        #expect(small[small.startIndex] == 42)
        small.withUnsafeBytes { #expect(Array($0) == [42]) }
    }

    @Test("Lookup by key uses the scan and then the table, for keys in any order")
    func lookUpInAnyOrder() throws {
        let keys = (0..<300).map { "beacon:key:\($0)" }
        let answers = keys.enumerated().map { Answer(key: $1, value: Array($1.utf8), cas: UInt64($0)) }
        let items = try self.items(keys, answers.reversed())
        #expect(items.count == 300)
        var generator = SystemRandomNumberGenerator()
        for position in keys.indices.shuffled(using: &generator) {
            let item = try #require(items[keys[position]])
            #expect(item.cas == UInt64(position))
            #expect(Array(item.value) == Array(keys[position].utf8))
        }
        #expect(items.map(\.key) == keys)
    }

    @Test("The dictionary is what getMulti returned before: each key found, with its item")
    func dictionary() throws {
        let keys = ["k1", "k2", "k3", "k2", "absent"]
        let answers = [
            Answer(key: "k1", value: [1], flags: 1, cas: 11),
            Answer(key: "k3", value: [3, 3, 3], flags: 3, cas: 33),
            Answer(key: "k2", value: [], flags: 2, cas: 22),
        ]
        let items = try self.items(keys, answers)
        let expected: [String: MemcachedItem] = [
            "k1": MemcachedItem(value: [1], flags: 1, cas: 11),
            "k2": MemcachedItem(value: [], flags: 2, cas: 22),
            "k3": MemcachedItem(value: [3, 3, 3], flags: 3, cas: 33),
        ]
        #expect(items.dictionary == expected)
    }

    @Test("Items are equal by their bytes, wherever the bytes are")
    func itemEquality() {
        let buffer: [UInt8] = [9, 1, 2, 3, 9]
        let slice = MemcachedItem(value: buffer[1..<4], flags: 5, cas: 6)
        let whole = MemcachedItem(value: [1, 2, 3], flags: 5, cas: 6)
        #expect(slice == whole)
        #expect(slice.hashValue == whole.hashValue)
        #expect(slice != MemcachedItem(value: [1, 2, 3], flags: 5, cas: 7))
    }

    @Test("A result crosses tasks and is looked up concurrently")
    func concurrentLookups() async throws {
        let keys = (0..<64).map { "key:\($0)" }
        let items = try self.items(keys, keys.map { Answer(key: $0, value: Array($0.utf8)) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for key in keys.shuffled() {
                        #expect(items[key].map { Array($0.value) } == Array(key.utf8), "task \(task)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
