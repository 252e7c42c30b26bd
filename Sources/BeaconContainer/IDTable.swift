// SPDX-License-Identifier: Apache-2.0

/// The id-to-slot table of a container: open addressing with a cheap hash of the id's UTF-8 bytes, built once.
///
/// Swift's `Dictionary<String, Int>` hashes with seeded SipHash, which costs more than the rest of a `get`;
/// this table hashes eight bytes per step and confirms the match with one string comparison.
/// `get` inlines the lookup into the caller. The entries are one array, so a lookup touches one buffer.
@usableFromInline
struct IDTable: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        /// The id's hash; 0 marks an empty entry.
        @usableFromInline let hash: UInt64
        @usableFromInline let slot: Int
        @usableFromInline let id: String

        @usableFromInline
        init(hash: UInt64, slot: Int, id: String) {
            self.hash = hash
            self.slot = slot
            self.id = id
        }
    }

    @usableFromInline let mask: Int
    @usableFromInline let entries: [Entry]

    init(_ table: [String: Int]) {
        var capacity = 8
        while capacity < table.count * 2 {
            capacity *= 2
        }
        var entries = [Entry](repeating: Entry(hash: 0, slot: -1, id: ""), count: capacity)
        for (id, slot) in table {
            let hash = Self.hash(id)
            var position = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while entries[position].hash != 0 {
                position = (position + 1) & (capacity - 1)
            }
            entries[position] = Entry(hash: hash, slot: slot, id: id)
        }
        self.mask = capacity - 1
        self.entries = entries
    }

    /// The slot of `id`, or `nil`.
    @inlinable
    @inline(__always)
    func slot(of id: String) -> Int? {
        let hash = Self.hash(id)
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = entries[position].hash
            if stored == 0 {
                return nil
            }
            if stored == hash && entries[position].id == id {
                return entries[position].slot
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
        if offset < bytes.count && bytes.count >= 8 {
            // The last eight bytes, overlapping the words already mixed: one load instead of a byte loop.
            tail = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        } else {
            var shift: UInt64 = 0
            while offset < bytes.count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
        }
        hash = (hash ^ tail) &* 0x0000_0100_0000_01b3
        hash ^= hash >> 32
        return hash | 1
    }
}
