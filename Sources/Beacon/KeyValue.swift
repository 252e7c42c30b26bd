// SPDX-License-Identifier: Apache-2.0

/// One entry read from a discovery source: a key, its value bytes and its version.
///
/// The ``version`` comes from the backend (etcd's `mod_revision`; in-process sources count their own
/// writes). It changes whenever the value is written, so a
/// consumer can tell a value that changed from one that was merely read again.
public struct KeyValue: Hashable, Sendable, CustomStringConvertible {
    /// The full key, for example `/db/main/endpoint`.
    public var key: String
    /// The value as stored: arbitrary bytes, usually UTF-8 text.
    public var value: [UInt8]
    /// The backend's version of this entry; `0` when the source does not version its entries.
    public var version: UInt64

    /// Creates an entry from raw bytes.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - value: The value bytes.
    ///   - version: The backend's version of the entry.
    public init(key: String, value: [UInt8], version: UInt64 = 0) {
        self.key = key
        self.value = value
        self.version = version
    }

    /// Creates an entry from text, stored as UTF-8.
    ///
    /// - Parameters:
    ///   - key: The full key.
    ///   - string: The value text.
    ///   - version: The backend's version of the entry.
    public init(key: String, string: String, version: UInt64 = 0) {
        self.init(key: key, value: Array(string.utf8), version: version)
    }

    /// The value decoded as UTF-8; invalid sequences become U+FFFD.
    public var string: String { String(decoding: self.value, as: UTF8.self) }

    /// The value parsed as an ``Endpoint``: endpoint text such as `10.0.0.1:11211`, or a ``ServiceInstance`` as JSON
    /// (a value starting with `{`, as registrations write it), whose endpoint is taken.
    ///
    /// - Parameter defaultPort: The port to use when endpoint text has none.
    /// - Returns: The endpoint.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` naming this key and value.
    public func endpoint(defaultPort: Int? = nil) throws(BeaconError) -> Endpoint {
        if self.holdsJSONObject {
            return try ServiceInstance(decoding: self).endpoint
        }
        do {
            return try Endpoint(parsing: self.string, defaultPort: defaultPort)
        } catch {
            throw BeaconError(.invalidValue, error.message, key: self.key, text: self.string)
        }
    }

    /// Whether the value's first non-blank character is `{`.
    var holdsJSONObject: Bool {
        self.value.first {
            $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\t")
                && $0 != UInt8(ascii: "\r")
        } == UInt8(ascii: "{")
    }

    /// `key = "value" (version N)`; values longer than 64 bytes are shortened.
    public var description: String {
        let text = self.string
        let shown = text.utf8.count > 64 ? String(text.prefix(61)) + "..." : text
        return "\(self.key) = \(BeaconError.quoted(shown)) (version \(self.version))"
    }
}
