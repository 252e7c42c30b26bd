// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The JSON shapes of etcd's v3 gateway (grpc-gateway). Rules (see Documentation/Etcd.md): bytes are base64,
// 64-bit integers are decimal strings in responses, and zero, false or empty fields are omitted, so every
// response field is optional.

/// A 64-bit integer that etcd writes as a decimal string (and accepts as a string or a number).
struct WireInt64: Codable, Hashable, Sendable {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Int64(text) {
            self.value = value
        } else {
            self.value = try container.decode(Int64.self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(self.value))
    }
}

/// Bytes that etcd writes as standard, padded base64.
struct WireBytes: Codable, Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { self.bytes = Array(text.utf8) }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid base64")
        }
        self.bytes = Array(data)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(self.bytes).base64EncodedString())
    }

    /// The end of the range that covers every key starting with these bytes: the prefix with its last
    /// byte incremented, after dropping trailing 0xff bytes; `\0` (all keys) when nothing is left.
    var prefixRangeEnd: WireBytes {
        var end = self.bytes
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return WireBytes(end)
            }
            end.removeLast()
        }
        return WireBytes([0])
    }
}

struct WireHeader: Codable, Sendable {
    var revision: WireInt64?
}

struct WireKeyValue: Codable, Sendable {
    var key: WireBytes
    var value: WireBytes?
    var create_revision: WireInt64?
    var mod_revision: WireInt64?
    var version: WireInt64?
    var lease: WireInt64?

    var keyValue: KeyValueParts {
        KeyValueParts(
            key: String(decoding: self.key.bytes, as: UTF8.self),
            value: self.value?.bytes ?? [],
            modRevision: self.mod_revision?.value ?? 0
        )
    }
}

/// The parts of an etcd entry that `Beacon.KeyValue` holds.
struct KeyValueParts: Sendable {
    var key: String
    var value: [UInt8]
    var modRevision: Int64
}

struct WireRangeRequest: Codable, Sendable {
    var key: WireBytes
    var range_end: WireBytes?
    var revision: WireInt64?
    var limit: WireInt64?
}

struct WireRangeResponse: Codable, Sendable {
    var header: WireHeader?
    var kvs: [WireKeyValue]?
    var more: Bool?
    var count: WireInt64?
}

struct WirePutRequest: Codable, Sendable {
    var key: WireBytes
    var value: WireBytes
    var lease: WireInt64?
}

struct WirePutResponse: Codable, Sendable {
    var header: WireHeader?
}

struct WireDeleteRequest: Codable, Sendable {
    var key: WireBytes
    var range_end: WireBytes?
}

struct WireDeleteResponse: Codable, Sendable {
    var header: WireHeader?
    var deleted: WireInt64?
}

struct WireCompare: Codable, Sendable {
    var key: WireBytes
    var target: String
    var result: String
    var mod_revision: WireInt64?
    var create_revision: WireInt64?
}

struct WireRequestOp: Codable, Sendable {
    var request_put: WirePutRequest?
    var request_range: WireRangeRequest?
}

struct WireTxnRequest: Codable, Sendable {
    var compare: [WireCompare]
    var success: [WireRequestOp]
    var failure: [WireRequestOp]
}

struct WireTxnResponse: Codable, Sendable {
    var header: WireHeader?
    var succeeded: Bool?
}

struct WireLeaseGrantRequest: Codable, Sendable {
    var TTL: WireInt64
}

struct WireLeaseGrantResponse: Codable, Sendable {
    var header: WireHeader?
    var ID: WireInt64?
    var TTL: WireInt64?
    var error: String?
}

struct WireLeaseIDRequest: Codable, Sendable {
    var ID: WireInt64
}

struct WireLeaseKeepAliveResponse: Codable, Sendable {
    struct Result: Codable, Sendable {
        var ID: WireInt64?
        var TTL: WireInt64?
    }
    var result: Result?
}

struct WireLeaseTimeToLiveResponse: Codable, Sendable {
    var ID: WireInt64?
    var TTL: WireInt64?
    var grantedTTL: WireInt64?
}

struct WireEmptyResponse: Codable, Sendable {
    var header: WireHeader?
}

struct WireAuthenticateRequest: Codable, Sendable {
    var name: String
    var password: String
}

struct WireAuthenticateResponse: Codable, Sendable {
    var token: String?
}

struct WireErrorResponse: Codable, Sendable {
    var error: String?
    var message: String?
    var code: Int?
}

struct WireWatchRequest: Codable, Sendable {
    struct Create: Codable, Sendable {
        var key: WireBytes
        var range_end: WireBytes
        var start_revision: WireInt64
        var progress_notify: Bool
    }
    var create_request: Create
}

/// One line of a watch stream: `{"result": {...}}`, or `{"error": {...}}` when the server ends the stream.
struct WireWatchMessage: Codable, Sendable {
    struct Event: Codable, Sendable {
        var type: String?
        var kv: WireKeyValue
    }

    struct Result: Codable, Sendable {
        var header: WireHeader?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: WireInt64?
        var cancel_reason: String?
        var events: [Event]?
    }

    struct StreamError: Codable, Sendable {
        var grpc_code: Int?
        var http_code: Int?
        var message: String?
    }

    var result: Result?
    var error: StreamError?
}
