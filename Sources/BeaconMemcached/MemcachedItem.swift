// SPDX-License-Identifier: Apache-2.0

/// A value read from memcached, with its flags and its compare-and-swap token.
public struct MemcachedItem: Hashable, Sendable {
    /// The value's bytes.
    public var value: [UInt8]
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
    public init(value: [UInt8], flags: UInt32 = 0, cas: UInt64 = 0) {
        self.value = value
        self.flags = flags
        self.cas = cas
    }
}
