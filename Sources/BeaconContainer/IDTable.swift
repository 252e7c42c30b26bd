// SPDX-License-Identifier: Apache-2.0

/// The id-to-slot table of a container: open addressing with a cheap hash of the id's UTF-8 bytes, built once.
///
/// Swift's `Dictionary<String, Int>` hashes with seeded SipHash, which costs more than the rest of a `get`;
/// this table hashes eight bytes per step and confirms the match with one string comparison.
/// `get` inlines the lookup into the caller.
@usableFromInline
struct IDTable: Sendable {
    @usableFromInline let mask: Int
    @usableFromInline let hashes: [UInt64]
    @usableFromInline let ids: [String]
    @usableFromInline let slots: [Int]

    init(_ entries: [String: Int]) {
        var capacity = 8
        while capacity < entries.count * 2 {
            capacity *= 2
        }
        var hashes = [UInt64](repeating: 0, count: capacity)
        var ids = [String](repeating: "", count: capacity)
        var slots = [Int](repeating: -1, count: capacity)
        for (id, slot) in entries {
            let hash = Self.hash(id)
            var position = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while hashes[position] != 0 {
                position = (position + 1) & (capacity - 1)
            }
            hashes[position] = hash
            ids[position] = id
            slots[position] = slot
        }
        self.mask = capacity - 1
        self.hashes = hashes
        self.ids = ids
        self.slots = slots
    }

    /// The slot of `id`, or `nil`.
    @inlinable
    @inline(__always)
    func slot(of id: String) -> Int? {
        let hash = Self.hash(id)
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = hashes[position]
            if stored == 0 {
                return nil
            }
            if stored == hash && ids[position] == id {
                return slots[position]
            }
            position = (position + 1) & mask
        }
    }

    /// A 64-bit hash of the UTF-8 bytes, never 0 (0 marks an empty entry).
    @inlinable
    @inline(__always)
    static func hash(_ id: String) -> UInt64 {
        if let hash = id.utf8.withContiguousStorageIfAvailable({ hash(bytes: UnsafeRawBufferPointer($0)) }) {
            return hash
        }
        return Array(id.utf8).withUnsafeBytes { hash(bytes: $0) }
    }

    @inlinable
    @inline(__always)
    static func hash(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0x0000_0100_0000_01b3
            hash ^= hash >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0x0000_0100_0000_01b3
        hash ^= hash >> 32
        return hash | 1
    }
}
