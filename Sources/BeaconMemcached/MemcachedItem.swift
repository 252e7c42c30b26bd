// SPDX-License-Identifier: Apache-2.0

/// A value read from memcached, with its flags and its compare-and-swap token.
///
/// The value is a slice of the buffer its ``MemcachedItems`` holds every value of a read in: taking an item out
/// of a result copies no bytes. Like every `ArraySlice`, its indices are positions in that buffer, so read it
/// from `value.startIndex` (or with `value.first`, `value.withUnsafeBytes`, `Array(value)`), not from `0`.
public struct MemcachedItem: Hashable, Sendable {
    /// The value's bytes. Two items are equal when their bytes, flags and tokens are equal, wherever the bytes
    /// are stored.
    public var value: ArraySlice<UInt8>
    /// The 32-bit flags stored with the value.
    public var flags: UInt32
    /// The token to pass to ``MemcachedConnection/compareAndSwap(_:value:cas:expiration:flags:)``; it changes on
    /// every write of the key.
    public var cas: UInt64

    /// Creates an item.
    ///
    /// - Parameters:
    ///   - value: The value's bytes.
    ///   - flags: The stored flags.
    ///   - cas: The compare-and-swap token.
    @inlinable
    public init(value: ArraySlice<UInt8>, flags: UInt32 = 0, cas: UInt64 = 0) {
        self.value = value
        self.flags = flags
        self.cas = cas
    }

    /// Creates an item whose value is a whole array.
    ///
    /// - Parameters:
    ///   - value: The value's bytes.
    ///   - flags: The stored flags.
    ///   - cas: The compare-and-swap token.
    public init(value: [UInt8], flags: UInt32 = 0, cas: UInt64 = 0) {
        self.init(value: value[...], flags: flags, cas: cas)
    }
}
