// SPDX-License-Identifier: Apache-2.0

/// The result of ``MemcachedConnection/getMulti(_:)``: the items found for the requested keys, by request position.
///
/// The values of all the items found are stored end to end in one buffer, and each ``MemcachedItem/value`` is a
/// slice of it: a multi-key read makes the same few allocations whatever the number of keys, and no item copies its
/// value. The requested keys are kept as the caller passed them (``requestedKeys``), so iterating needs no hashing
/// and no new strings.
///
/// ```swift
/// let items = try connection.getMulti(["user:1", "user:2", "user:3"])
/// for (key, item) in items {            // the keys found, in request order
///     print(key, item.value.count)
/// }
/// let first = items["user:1"]           // by key
/// let second = items.item(at: 1)        // by position in the request
/// let byKey = items.dictionary          // [String: MemcachedItem], as PHP's getMulti returns it
/// ```
///
/// A key requested twice is found (or not) at both positions, with the same item; it is iterated twice.
///
/// Every value shares the one buffer, which stays allocated as long as any item taken from the result does. To keep
/// a small value for long out of a large result, copy it: `Array(item.value)`.
public struct MemcachedItems: Sendable {
    /// The keys as they were requested, found or not, in request order.
    public let requestedKeys: [String]
    /// The values of the items found, end to end.
    @usableFromInline private(set) var values: [UInt8]
    /// One entry per requested key.
    @usableFromInline private(set) var entries: [Entry]
    /// The positions of the requested keys by key, for ``subscript(_:)``; `nil` for an empty request.
    private var index: MemcachedKeyIndex?
    /// The number of requested keys found (a key requested twice and found counts twice).
    public private(set) var count: Int

    /// Where a requested key's value is in ``values``, with its flags and token.
    @usableFromInline
    struct Entry: Sendable {
        /// The offset of the value in ``values``, or `-1` when the key was not found.
        @usableFromInline var offset: Int
        @usableFromInline var length: Int
        @usableFromInline var cas: UInt64
        @usableFromInline var flags: UInt32

        static let missing = Entry(offset: -1, length: 0, cas: 0, flags: 0)
    }

    /// An empty result: no key requested.
    public init() {
        self.requestedKeys = []
        self.values = []
        self.entries = []
        self.index = nil
        self.count = 0
    }

    /// A result with no key found yet, that ``record(key:_:batch:)`` fills and ``finish(_:)`` completes.
    init(requestedKeys: [String]) {
        self.requestedKeys = requestedKeys
        self.values = []
        self.entries = [Entry](repeating: .missing, count: requestedKeys.count)
        self.index = nil
        self.count = 0
    }

    /// Whether no requested key was found.
    public var isEmpty: Bool { self.count == 0 }

    /// The item found for a key.
    ///
    /// The first lookup by key builds a table of the requested keys (their bytes were already laid out for the
    /// request); iterating and ``item(at:)`` do not need it.
    ///
    /// - Parameter key: A key, without the pool's key prefix.
    /// - Returns: The item, or `nil` when the key was not requested or not found.
    public subscript(key: String) -> MemcachedItem? {
        guard self.count > 0, let position = self.index?.position(of: key) else { return nil }
        return self.item(at: position)
    }

    /// The item found for the key requested at a position.
    ///
    /// - Parameter position: A position in ``requestedKeys``.
    /// - Returns: The item, or `nil` when that key was not found.
    @inlinable
    public func item(at position: Int) -> MemcachedItem? {
        let entry = self.entries[position]
        guard entry.offset >= 0 else { return nil }
        return MemcachedItem(
            value: self.values[entry.offset..<entry.offset + entry.length],
            flags: entry.flags,
            cas: entry.cas
        )
    }

    /// The items found by key, as PHP's `getMulti` returns them: a key requested twice appears once.
    ///
    /// Building it hashes every key found; iterate the result or use ``subscript(_:)`` when a dictionary is not
    /// needed. Its values share the result's buffer.
    public var dictionary: [String: MemcachedItem] {
        var dictionary = [String: MemcachedItem](minimumCapacity: self.count)
        for (key, item) in self { dictionary[key] = item }
        return dictionary
    }

    // MARK: Filling

    /// Stores a value a server returned for `key`, at the position `batch` maps the key to. A key that was not
    /// requested (which a working server does not return) is ignored, and so is a second answer for a position (a
    /// key requested twice is answered twice, and both answers may map to the same position).
    @inline(__always)
    mutating func record(key: UnsafeRawBufferPointer, _ value: MemcachedValueView, batch: inout MemcachedKeyBatch) {
        guard let position = batch.position(of: key), self.entries[position].offset < 0 else { return }
        if self.values.capacity == 0 { self.reserve(startingWith: value.bytes.count) }
        let offset = self.values.count
        self.values.append(
            contentsOf: UnsafeBufferPointer(
                start: value.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                count: value.bytes.count
            )
        )
        self.entries[position] = Entry(offset: offset, length: value.bytes.count, cas: value.cas, flags: value.flags)
        self.count += 1
    }

    /// Reserves room for as many values as keys requested of the size of the first one (values of one request
    /// are often alike), at most about a megabyte; the buffer grows as arrays do beyond that.
    private mutating func reserve(startingWith length: Int) {
        let estimate = Swift.max(length, 16).multipliedReportingOverflow(by: self.entries.count)
        let limit = Swift.max(length, 1 << 20)
        self.values.reserveCapacity(estimate.overflow ? limit : Swift.min(estimate.partialValue, limit))
    }

    /// Completes the result once every answer is recorded: the positions of a repeated key get the item found at
    /// another of its positions, and `batch` becomes the index of ``subscript(_:)``.
    mutating func finish(_ batch: consuming MemcachedKeyBatch) {
        self.fillRepeatedKeys(&batch)
        self.index = MemcachedKeyIndex(batch)
    }

    /// Gives every position of a repeated key the item found at another of its positions. Only needed when fewer
    /// positions were filled than keys requested.
    private mutating func fillRepeatedKeys(_ batch: inout MemcachedKeyBatch) {
        guard self.count < self.entries.count else { return }
        for position in self.entries.indices where self.entries[position].offset < 0 {
            let other = self.entries.withUnsafeBufferPointer { entries in
                batch.otherPosition(equalToKeyAt: position) { entries[$0].offset >= 0 }
            }
            if let other {
                self.entries[position] = self.entries[other]
                self.count += 1
            }
        }
    }
}

// The iteration is inlinable so that, in the caller's loop, the compiler sees that each item's value and key
// are parts of the arrays the iterator holds, and does not retain and release them per item.
extension MemcachedItems: Sequence {
    /// Iterates the keys found, in request order, with their items.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let items: MemcachedItems
        @usableFromInline var position = 0

        @inlinable
        init(_ items: MemcachedItems) {
            self.items = items
        }

        /// The next key found and its item, or `nil` after the last one.
        @inlinable
        public mutating func next() -> (key: String, item: MemcachedItem)? {
            while self.position < self.items.requestedKeys.count {
                let position = self.position
                self.position += 1
                if let item = self.items.item(at: position) {
                    return (self.items.requestedKeys[position], item)
                }
            }
            return nil
        }
    }

    /// An iterator over the keys found, in request order, with their items.
    @inlinable
    public func makeIterator() -> Iterator { Iterator(self) }

    /// The number of keys found.
    public var underestimatedCount: Int { self.count }
}
