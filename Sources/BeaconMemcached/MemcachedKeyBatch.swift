// SPDX-License-Identifier: Apache-2.0

import CBeaconMemcached

/// The keys of one multi-key read, checked and laid out as `memcached_mget` takes them: their UTF-8 bytes end to
/// end in one buffer, with an offset and a length per key.
///
/// ``position(of:)`` maps a key a server returned back to the position of the requested
/// key, so that a result can reuse the caller's `String` instead of decoding a new one.
struct MemcachedKeyBatch {
    private var bytes: [UInt8]
    private var offsets: [Int]
    private var lengths: [Int]
    /// Each key's ``fingerprint(_:_:)``, offset and length side by side (what a comparison reads, in one cache
    /// line); empty until ``position(of:)`` needs it.
    private var entries: [Entry] = []

    private struct Entry {
        var fingerprint: UInt64
        var offset: UInt32
        var length: UInt32
    }
    /// Where ``position(of:)`` starts comparing: after the key found last.
    private var cursor = 0
    private var scanMisses = 0
    /// Open-addressing table of key positions (`-1` for an empty slot); empty until ``position(of:)`` needs it.
    private var table: [Int32] = []
    private let seed = Self.processSeed

    /// Lays out and checks `keys`.
    ///
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key `rules` refuse,
    ///   naming its position: no key is requested then.
    init(_ keys: [String], rules: MemcachedKeyRules) throws(MemcachedError) {
        var total = 0
        for key in keys { total += key.utf8.count }
        // `Array(unsafeUninitializedCapacity: 0)` writes its count into the storage every empty array shares, a
        // race ThreadSanitizer reports when two threads do it at once: no batch of zero bytes is laid out that way.
        guard !keys.isEmpty else {
            (self.bytes, self.offsets, self.lengths) = ([], [], [])
            return
        }
        // No key has a byte: every key is empty, which no rule accepts.
        guard total > 0 else { throw rules.error(for: keys[0], position: 0, of: keys.count) }
        var offsets: [Int] = []
        offsets.reserveCapacity(keys.count)
        var lengths: [Int] = []
        lengths.reserveCapacity(keys.count)
        var invalid: Int?
        // The closures below only return values: a closure that writes to a captured variable makes the compiler
        // retain and release each key around the call, which costs more than the copy.
        self.bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            for (position, key) in keys.enumerated() {
                let length = MemcachedConnection.withBytes(key) { key8 -> Int in
                    guard key8.count <= total - offset, rules.accepts(key8) else {
                        return -1
                    }
                    let start = UnsafeMutableRawPointer(buffer.baseAddress! + offset)
                    start.copyMemory(from: key8.baseAddress!, byteCount: key8.count)
                    return key8.count
                }
                if length < 0 {
                    invalid = position
                    break
                }
                offsets.append(offset)
                lengths.append(length)
                offset += length
            }
            initialized = offset
        }
        if let invalid { throw rules.error(for: keys[invalid], position: invalid, of: keys.count) }
        self.offsets = offsets
        self.lengths = lengths
    }

    /// The number of keys.
    var count: Int { self.lengths.count }

    /// Sends the request for every key (`memcached_mget`).
    func request(_ handle: UnsafeMutablePointer<memcached_st>) -> memcached_return_t {
        self.bytes.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let count = self.count
            let pointers = [UnsafePointer<CChar>?](unsafeUninitializedCapacity: count) { buffer, initialized in
                self.offsets.withUnsafeBufferPointer { offsets in
                    for position in 0..<count {
                        (buffer.baseAddress! + position).initialize(to: base + offsets[position])
                    }
                }
                initialized = count
            }
            return memcached_mget(handle, pointers, self.lengths, count)
        }
    }

    /// Sends the request for the keys at `positions` only: with `group`, all to the server libmemcached places
    /// that group key on (`memcached_mget_by_key`), otherwise each to its own server.
    func request(
        _ handle: UnsafeMutablePointer<memcached_st>,
        positions: [Int],
        group: [CChar]?
    ) -> memcached_return_t {
        self.bytes.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let pointers = positions.map { Optional(base + self.offsets[$0]) }
            let lengths = positions.map { self.lengths[$0] }
            guard let group else { return memcached_mget(handle, pointers, lengths, positions.count) }
            return memcached_mget_by_key(handle, group, group.count, pointers, lengths, positions.count)
        }
    }

    /// The key at `position`, as a buffer of its bytes lent to `body`.
    func withKey<T>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        self.bytes.withUnsafeBufferPointer { bytes in
            let start = self.offsets[position]
            return body(UnsafeBufferPointer(rebasing: bytes[start..<start + self.lengths[position]]))
        }
    }

    /// The position of a requested key equal to `key`, or `nil` when no key is equal.
    ///
    /// Each server answers in the order of the request, and libmemcached reads the servers one after the other,
    /// so the key is usually a few positions after the one found last (the keys in between belong to other
    /// servers): those positions are compared first. A key further away is looked up in a hash table of the
    /// keys, built the first time one is needed.
    mutating func position(of key: UnsafeRawBufferPointer) -> Int? {
        guard self.count > 0, let start = key.baseAddress else { return nil }
        if self.entries.isEmpty { self.computeEntries() }
        let fingerprint = Self.fingerprint(start, key.count)
        if self.scanMisses < Self.maximumScanMisses {
            if let position = self.scan(start, key.count, fingerprint) {
                self.cursor = position + 1 == self.count ? 0 : position + 1
                return position
            }
            self.scanMisses += 1
        }
        if self.table.isEmpty { self.buildTable() }
        guard let position = self.lookUp(start, key.count, fingerprint) else { return nil }
        self.cursor = position + 1 == self.count ? 0 : position + 1
        return position
    }

    /// A position other than `position` whose key is equal to the key at `position` and that `accepts`, or `nil`:
    /// the other positions of a repeated key, from the table.
    mutating func otherPosition(equalToKeyAt position: Int, where accepts: (Int) -> Bool) -> Int? {
        if self.entries.isEmpty { self.computeEntries() }
        if self.table.isEmpty { self.buildTable() }
        let entry = self.entries[position]
        return self.bytes.withUnsafeBytes { bytes -> Int? in
            let start = bytes.baseAddress! + Int(entry.offset)
            let count = Int(entry.length)
            return self.table.withUnsafeBufferPointer { table -> Int? in
                let mask = table.count - 1
                var slot = Int(truncatingIfNeeded: Self.hash(start, count, seed: self.seed)) & mask
                while table[slot] >= 0 {
                    let other = Int(table[slot])
                    let candidate = self.entries[other]
                    if other != position && candidate.fingerprint == entry.fingerprint
                        && self.isKey(candidate, start, count) && accepts(other)
                    {
                        return other
                    }
                    slot = (slot + 1) & mask
                }
                return nil
            }
        }
    }

    /// How many positions from ``cursor`` ``scan(_:_:_:)`` compares: the keys of the other servers in between
    /// are skipped over, a few per server.
    private static let scanLength = 24
    /// After that many keys the scan did not find, the table alone is used (many servers, or keys answered out
    /// of order).
    private static let maximumScanMisses = 4

    /// Compares the key with the few requested keys from ``cursor`` on: their fingerprints, then the bytes of
    /// the one whose fingerprint is equal.
    private func scan(_ start: UnsafeRawPointer, _ count: Int, _ fingerprint: UInt64) -> Int? {
        self.entries.withUnsafeBufferPointer { entries -> Int? in
            var candidate = self.cursor
            for _ in 0..<min(entries.count, Self.scanLength) {
                if entries[candidate].fingerprint == fingerprint && self.isKey(entries[candidate], start, count) {
                    return candidate
                }
                candidate = candidate + 1 == entries.count ? 0 : candidate + 1
            }
            return nil
        }
    }

    private mutating func computeEntries() {
        self.entries = self.bytes.withUnsafeBytes { bytes in
            (0..<self.count).map { position in
                let offset = self.offsets[position]
                let length = self.lengths[position]
                return Entry(
                    fingerprint: Self.fingerprint(bytes.baseAddress! + offset, length),
                    offset: UInt32(truncatingIfNeeded: offset),
                    length: UInt32(truncatingIfNeeded: length)
                )
            }
        }
    }

    /// Whether the key of `entry` has these bytes.
    @inline(__always)
    private func isKey(_ entry: Entry, _ start: UnsafeRawPointer, _ count: Int) -> Bool {
        Int(entry.length) == count
            && self.bytes.withUnsafeBytes { Self.equal($0.baseAddress! + Int(entry.offset), start, count) }
    }

    /// Builds the open-addressing table ``lookUp(_:_:_:)`` reads, with about two slots per key so that probe
    /// sequences stay short. A repeated key keeps its first position.
    private mutating func buildTable() {
        var capacity = 8
        while capacity < 2 * self.count { capacity <<= 1 }
        let mask = capacity - 1
        var table = [Int32](repeating: -1, count: capacity)
        self.bytes.withUnsafeBytes { bytes in
            for position in 0..<self.count {
                let hash = Self.hash(
                    bytes.baseAddress! + self.offsets[position],
                    self.lengths[position],
                    seed: self.seed
                )
                var slot = Int(truncatingIfNeeded: hash) & mask
                while table[slot] >= 0 { slot = (slot + 1) & mask }
                table[slot] = Int32(truncatingIfNeeded: position)
            }
        }
        self.table = table
    }

    /// The position of a requested key equal to the key, from the table.
    private func lookUp(_ start: UnsafeRawPointer, _ count: Int, _ fingerprint: UInt64) -> Int? {
        self.table.withUnsafeBufferPointer { table -> Int? in
            let mask = table.count - 1
            var slot = Int(truncatingIfNeeded: Self.hash(start, count, seed: self.seed)) & mask
            while true {
                let stored = table[slot]
                if stored < 0 { return nil }
                let position = Int(stored)
                let entry = self.entries[position]
                if entry.fingerprint == fingerprint && self.isKey(entry, start, count) { return position }
                slot = (slot + 1) & mask
            }
        }
    }

    /// A cheap summary of a key that tells most different keys apart (their length, first and last eight
    /// bytes), compared before the bytes.
    @inline(__always)
    static func fingerprint(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
        let length = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        guard count >= 8 else {
            var packed: UInt64 = 0
            for offset in 0..<count {
                packed |= UInt64(start.load(fromByteOffset: offset, as: UInt8.self)) << UInt64(offset * 8)
            }
            return packed ^ length
        }
        let first = start.loadUnaligned(as: UInt64.self)
        let last = start.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        return (first &* 0xBF58_476D_1CE4_E5B9) ^ last ^ length
    }

    /// Whether two byte ranges of `count` bytes are equal, eight bytes at a time (keys are short: a call to
    /// `memcmp` costs more than the comparison). The last eight bytes are compared first: keys that share a
    /// prefix usually differ at their end.
    @inline(__always)
    static func equal(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
        guard count >= 8 else {
            for offset in 0..<count
            where lhs.load(fromByteOffset: offset, as: UInt8.self) != rhs.load(fromByteOffset: offset, as: UInt8.self) {
                return false
            }
            return true
        }
        if lhs.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            != rhs.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        {
            return false
        }
        var offset = 0
        while offset < count - 8 {
            if lhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                != rhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            {
                return false
            }
            offset += 8
        }
        return true
    }

    /// A fast non-cryptographic hash of a key's bytes, eight at a time. The seed is random per process, so which
    /// keys collide cannot be planned; the table compares the bytes, so the hash only spreads them.
    @inline(__always)
    static func hash(_ start: UnsafeRawPointer, _ count: Int, seed: UInt64) -> UInt64 {
        var hash = seed ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= count {
            hash = (hash ^ start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            tail |= UInt64(start.load(fromByteOffset: offset, as: UInt8.self)) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 29
        return hash
    }

    private static let processSeed = UInt64.random(in: 0...UInt64.max)
}
