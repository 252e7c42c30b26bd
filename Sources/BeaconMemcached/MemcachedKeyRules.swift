// SPDX-License-Identifier: Apache-2.0

/// Which keys a pool can send to memcached, and the error that says why a key cannot be sent.
///
/// memcached takes keys of 1 to 250 bytes (its `KEY_MAX_LENGTH`; libmemcached's `MEMCACHED_MAX_KEY` is 251, the
/// terminating NUL included), in both protocols. The key prefix goes on the wire in front of every key, so it counts
/// in those 250 bytes: libmemcached 1.1.4 does not count it and leaves the server to refuse the longer line. In the
/// ASCII protocol a key is a word of the command line, so it cannot hold a space or a control byte (0x00 to 0x20,
/// and 0x7F); bytes above 0x7F (UTF-8) go through. The binary protocol carries any byte.
struct MemcachedKeyRules: Sendable, Equatable {
    /// The most bytes memcached takes in a key, the key prefix included.
    static let maximumLength = 250

    /// The most bytes a key may have: 250 less the key prefix's bytes.
    let maximumLength: Int
    /// The key prefix's length in bytes.
    let prefixLength: Int
    /// Whether spaces and control bytes are refused, as the ASCII protocol must.
    let refusesSpacesAndControlBytes: Bool

    /// The rules of a pool's operations.
    ///
    /// - Parameters:
    ///   - binaryProtocol: Whether the pool speaks the binary protocol, which carries spaces and control bytes.
    ///   - keyPrefix: The pool's key prefix, which counts in the length.
    init(binaryProtocol: Bool, keyPrefix: String?) {
        let prefixLength = keyPrefix?.utf8.count ?? 0
        self.init(
            maximumLength: Self.maximumLength - prefixLength,
            prefixLength: prefixLength,
            refusesSpacesAndControlBytes: !binaryProtocol
        )
    }

    private init(maximumLength: Int, prefixLength: Int, refusesSpacesAndControlBytes: Bool) {
        self.maximumLength = maximumLength
        self.prefixLength = prefixLength
        self.refusesSpacesAndControlBytes = refusesSpacesAndControlBytes
    }

    /// The rules of PHP's `Memcached::getServerByKey`, which is libmemcached's `memcached_server_by_key`: 1 to 250
    /// bytes, any byte, the key prefix not counted (it is not hashed either).
    static let placement = MemcachedKeyRules(
        maximumLength: Self.maximumLength,
        prefixLength: 0,
        refusesSpacesAndControlBytes: false
    )

    /// Whether a key's bytes can be sent. Branch-free over the bytes, so that it vectorizes, and allocation-free.
    @inline(__always)
    func accepts(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.isEmpty || bytes.count > self.maximumLength { return false }
        guard self.refusesSpacesAndControlBytes else { return true }
        var refused: UInt8 = 0
        for byte in bytes { refused |= (byte <= 0x20 ? 1 : 0) | (byte == 0x7F ? 1 : 0) }
        return refused == 0
    }

    /// The error for a key ``accepts(_:)`` refuses, saying why: its length, or the first byte refused, its
    /// position and its value.
    ///
    /// - Parameters:
    ///   - key: The key refused.
    ///   - position: The key's position in a multi-key request of `count` keys, if it is one.
    ///   - count: The number of keys in that request.
    /// - Returns: An error with code ``MemcachedError/Code/invalidKey`` naming the key.
    func error(for key: String, position: Int? = nil, of count: Int = 1) -> MemcachedError {
        var message = self.reason(for: Array(key.utf8))
        if let position, count > 1 {
            message = "key \(position) (counted from 0) of the \(count) requested: " + message
        }
        return MemcachedError(.invalidKey, message, key: key)
    }

    /// The error for a key given as bytes, not necessarily UTF-8, that ``accepts(_:)`` refuses.
    ///
    /// - Parameter bytes: The key's bytes.
    /// - Returns: An error with code ``MemcachedError/Code/invalidKey`` naming the key, decoded as UTF-8.
    func error(forBytes bytes: [UInt8]) -> MemcachedError {
        MemcachedError(.invalidKey, self.reason(for: bytes), key: String(decoding: bytes, as: UTF8.self))
    }

    private func reason(for bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "the key is empty; memcached keys have 1 to 250 bytes" }
        if bytes.count > self.maximumLength {
            if self.prefixLength == 0 {
                return "the key has \(bytes.count) bytes; memcached keys have at most 250"
            }
            return "the key has \(bytes.count) bytes; memcached keys have at most 250, and the key prefix takes "
                + "\(self.prefixLength) of them, which leaves \(max(self.maximumLength, 0))"
        }
        guard let offset = bytes.firstIndex(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return "memcached refuses the key"
        }
        let byte = bytes[offset]
        let hex = "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        let name = byte == 0x20 ? "a space" : "a control byte"
        return "byte \(offset) (counted from 0) of the key is \(hex), \(name); the ASCII protocol cannot carry "
            + "spaces or control bytes in keys (the binary protocol can)"
    }
}
