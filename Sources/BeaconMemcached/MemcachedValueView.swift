// SPDX-License-Identifier: Apache-2.0

/// A value lent by ``MemcachedConnection/getMulti(_:each:)``: its bytes (valid only inside the closure), flags
/// and compare-and-swap token.
public struct MemcachedValueView: RandomAccessCollection {
    /// The value's bytes, owned by libmemcached and reused for the next value.
    public let bytes: UnsafeRawBufferPointer
    /// The 32-bit flags stored with the value.
    public let flags: UInt32
    /// The compare-and-swap token.
    public let cas: UInt64

    /// The position of the first byte.
    public var startIndex: Int { 0 }
    /// The position past the last byte.
    public var endIndex: Int { self.bytes.count }

    /// The byte at a position.
    ///
    /// - Parameter position: A valid index.
    public subscript(position: Int) -> UInt8 { self.bytes[position] }

    /// Runs `body` with the bytes as a contiguous buffer (lets `Array(view)` copy them with one `memcpy`).
    ///
    /// - Parameter body: The work.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withContiguousStorageIfAvailable<R>(
        _ body: (UnsafeBufferPointer<UInt8>) throws -> R
    ) rethrows -> R? {
        try body(
            UnsafeBufferPointer(
                start: self.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                count: self.bytes.count
            )
        )
    }
}

@available(*, unavailable)
extension MemcachedValueView: Sendable {}
