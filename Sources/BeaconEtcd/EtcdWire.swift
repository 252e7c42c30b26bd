// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP

// The JSON shapes of etcd's v3 gateway (grpc-gateway). Rules (see Documentation/Etcd.md): bytes are base64,
// 64-bit integers are decimal strings in responses, and zero, false or empty fields are omitted, so every
// response field is optional. Requests are written with ``JSONWriter`` and answers read from ``JSONValue``
// (no `Codable`: Foundation's coders cost more CPU per request than everything else the client does).

/// A request body of the gateway.
protocol WireRequest: Sendable {
    /// Writes the request's members into the open object.
    func write(to writer: inout JSONWriter)
}

extension WireRequest {
    /// The request as a JSON document.
    var json: [UInt8] {
        var writer = JSONWriter()
        writer.object { self.write(to: &$0) }
        return writer.bytes
    }
}

/// An answer of the gateway.
protocol WireResponse: Sendable {
    /// Reads the answer from its JSON object.
    init(json: JSONValue) throws(JSONError)
}

extension WireResponse {
    /// Reads the answer from a whole document, which must be an object.
    init(document bytes: [UInt8]) throws(JSONError) {
        try self.init(json: try JSONValue.parse(bytes).object("(the document)"))
    }
}

/// A 64-bit integer that etcd writes as a decimal string (and accepts as a string or a number).
struct WireInt64: Hashable, Sendable {
    var value: Int64

    init(_ value: Int64) { self.value = value }
}

/// Bytes that etcd writes as standard, padded base64.
struct WireBytes: Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { self.bytes = Array(text.utf8) }

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

extension JSONValue {
    /// The member `key` as an optional 64-bit integer.
    func int64(at key: String) throws(JSONError) -> WireInt64? {
        try self[key].map { json throws(JSONError) in WireInt64(try json.int64(key)) }
    }

    /// The member `key` as optional base64 bytes.
    func bytes(at key: String) throws(JSONError) -> WireBytes? {
        try self[key].map { json throws(JSONError) in WireBytes(try json.base64(key)) }
    }

    /// The member `key` as an optional string.
    func string(at key: String) throws(JSONError) -> String? {
        try self[key].map { json throws(JSONError) in try json.string(key) }
    }

    /// The member `key` as an optional boolean.
    func bool(at key: String) throws(JSONError) -> Bool? {
        try self[key].map { json throws(JSONError) in try json.bool(key) }
    }

    /// The member `key` as an optional answer object.
    func decode<Response: WireResponse>(
        _ type: Response.Type,
        at key: String
    ) throws(JSONError) -> Response? {
        try self[key].map { json throws(JSONError) in try Response(json: try json.object(key)) }
    }

    /// The member `key` as an optional array of answer objects.
    func decodeArray<Response: WireResponse>(
        _ type: Response.Type,
        at key: String
    ) throws(JSONError) -> [Response]? {
        guard let elements = try self[key].map({ json throws(JSONError) in try json.array(key) }) else {
            return nil
        }
        var result: [Response] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            result.append(try Response(json: try element.object(key)))
        }
        return result
    }
}

struct WireHeader: WireResponse {
    var revision: WireInt64?

    init(json: JSONValue) throws(JSONError) {
        self.revision = try json.int64(at: "revision")
    }
}

struct WireKeyValue: WireResponse {
    var key: WireBytes
    var value: WireBytes?
    var create_revision: WireInt64?
    var mod_revision: WireInt64?
    var version: WireInt64?
    var lease: WireInt64?

    init(json: JSONValue) throws(JSONError) {
        guard let key = try json.bytes(at: "key") else { throw JSONError(message: "field key is missing") }
        self.key = key
        self.value = try json.bytes(at: "value")
        self.create_revision = try json.int64(at: "create_revision")
        self.mod_revision = try json.int64(at: "mod_revision")
        self.version = try json.int64(at: "version")
        self.lease = try json.int64(at: "lease")
    }

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

struct WireRangeRequest: WireRequest {
    var key: WireBytes
    var range_end: WireBytes?
    var revision: WireInt64?
    var limit: WireInt64?

    func write(to writer: inout JSONWriter) {
        writer.base64("key", self.key.bytes)
        writer.base64("range_end", self.range_end?.bytes)
        writer.int64("revision", self.revision?.value)
        writer.int64("limit", self.limit?.value)
    }
}

struct WireRangeResponse: WireResponse {
    var header: WireHeader?
    var kvs: [WireKeyValue]?
    var more: Bool?
    var count: WireInt64?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
        self.kvs = try json.decodeArray(WireKeyValue.self, at: "kvs")
        self.more = try json.bool(at: "more")
        self.count = try json.int64(at: "count")
    }
}

struct WirePutRequest: WireRequest {
    var key: WireBytes
    var value: WireBytes
    var lease: WireInt64?

    func write(to writer: inout JSONWriter) {
        writer.base64("key", self.key.bytes)
        writer.base64("value", self.value.bytes)
        writer.int64("lease", self.lease?.value)
    }
}

struct WirePutResponse: WireResponse {
    var header: WireHeader?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
    }
}

struct WireDeleteRequest: WireRequest {
    var key: WireBytes
    var range_end: WireBytes?

    func write(to writer: inout JSONWriter) {
        writer.base64("key", self.key.bytes)
        writer.base64("range_end", self.range_end?.bytes)
    }
}

struct WireDeleteResponse: WireResponse {
    var header: WireHeader?
    var deleted: WireInt64?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
        self.deleted = try json.int64(at: "deleted")
    }
}

struct WireCompare: Sendable {
    var key: WireBytes
    var target: String
    var result: String
    var mod_revision: WireInt64?
    var create_revision: WireInt64?

    func write(to writer: inout JSONWriter) {
        writer.base64("key", self.key.bytes)
        writer.string("target", self.target)
        writer.string("result", self.result)
        writer.int64("mod_revision", self.mod_revision?.value)
        writer.int64("create_revision", self.create_revision?.value)
    }
}

struct WireRequestOp: Sendable {
    var request_put: WirePutRequest?
    var request_range: WireRangeRequest?

    func write(to writer: inout JSONWriter) {
        if let put = self.request_put {
            writer.object("request_put") { put.write(to: &$0) }
        }
        if let range = self.request_range {
            writer.object("request_range") { range.write(to: &$0) }
        }
    }
}

struct WireTxnRequest: WireRequest {
    var compare: [WireCompare]
    var success: [WireRequestOp]
    var failure: [WireRequestOp]

    func write(to writer: inout JSONWriter) {
        writer.array("compare", self.compare) { writer, compare in compare.write(to: &writer) }
        writer.array("success", self.success) { writer, operation in operation.write(to: &writer) }
        writer.array("failure", self.failure) { writer, operation in operation.write(to: &writer) }
    }
}

struct WireTxnResponse: WireResponse {
    var header: WireHeader?
    var succeeded: Bool?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
        self.succeeded = try json.bool(at: "succeeded")
    }
}

struct WireLeaseGrantRequest: WireRequest {
    var TTL: WireInt64

    func write(to writer: inout JSONWriter) {
        writer.int64("TTL", self.TTL.value)
    }
}

struct WireLeaseGrantResponse: WireResponse {
    var header: WireHeader?
    var ID: WireInt64?
    var TTL: WireInt64?
    var error: String?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
        self.ID = try json.int64(at: "ID")
        self.TTL = try json.int64(at: "TTL")
        self.error = try json.string(at: "error")
    }
}

struct WireLeaseIDRequest: WireRequest {
    var ID: WireInt64

    func write(to writer: inout JSONWriter) {
        writer.int64("ID", self.ID.value)
    }
}

struct WireLeaseKeepAliveResponse: WireResponse {
    struct Result: WireResponse {
        var ID: WireInt64?
        var TTL: WireInt64?

        init(json: JSONValue) throws(JSONError) {
            self.ID = try json.int64(at: "ID")
            self.TTL = try json.int64(at: "TTL")
        }
    }
    var result: Result?
    /// The stream's error line (`{"error": {"grpc_code", "message", …}}`), in place of a result.
    var error: WireWatchMessage.StreamError?

    init(json: JSONValue) throws(JSONError) {
        self.result = try json.decode(Result.self, at: "result")
        self.error = try json.decode(WireWatchMessage.StreamError.self, at: "error")
    }
}

struct WireLeaseTimeToLiveResponse: WireResponse {
    var ID: WireInt64?
    var TTL: WireInt64?
    var grantedTTL: WireInt64?

    init(json: JSONValue) throws(JSONError) {
        self.ID = try json.int64(at: "ID")
        self.TTL = try json.int64(at: "TTL")
        self.grantedTTL = try json.int64(at: "grantedTTL")
    }
}

/// The body of a request without members, such as the lease list.
struct WireEmptyRequest: WireRequest {
    func write(to writer: inout JSONWriter) {}
}

/// The answer of `/v3/lease/leases`: every lease the cluster holds.
struct WireLeaseLeasesResponse: WireResponse {
    struct Lease: WireResponse {
        var ID: WireInt64?

        init(json: JSONValue) throws(JSONError) {
            self.ID = try json.int64(at: "ID")
        }
    }
    var leases: [Lease]?

    init(json: JSONValue) throws(JSONError) {
        self.leases = try json.decodeArray(Lease.self, at: "leases")
    }
}

struct WireEmptyResponse: WireResponse {
    var header: WireHeader?

    init(json: JSONValue) throws(JSONError) {
        self.header = try json.decode(WireHeader.self, at: "header")
    }
}

/// Compacts the store's history up to a revision (used by the tests to provoke a compacted watch).
struct WireCompactionRequest: WireRequest {
    var revision: WireInt64

    func write(to writer: inout JSONWriter) {
        writer.int64("revision", self.revision.value)
    }
}

struct WireAuthenticateRequest: WireRequest {
    var name: String
    var password: String

    func write(to writer: inout JSONWriter) {
        writer.string("name", self.name)
        writer.string("password", self.password)
    }
}

struct WireAuthenticateResponse: WireResponse {
    var token: String?

    init(json: JSONValue) throws(JSONError) {
        self.token = try json.string(at: "token")
    }
}

struct WireErrorResponse: WireResponse {
    var error: String?
    var message: String?
    var code: Int?

    init(json: JSONValue) throws(JSONError) {
        self.error = try json.string(at: "error")
        self.message = try json.string(at: "message")
        self.code = try json["code"].map { json throws(JSONError) in try json.int("code") }
    }
}

struct WireWatchRequest: WireRequest {
    struct Create: Sendable {
        var key: WireBytes
        var range_end: WireBytes
        var start_revision: WireInt64
        var progress_notify: Bool
    }
    var create_request: Create

    func write(to writer: inout JSONWriter) {
        let create = self.create_request
        writer.object("create_request") { writer in
            writer.base64("key", create.key.bytes)
            writer.base64("range_end", create.range_end.bytes)
            writer.int64("start_revision", create.start_revision.value)
            writer.bool("progress_notify", create.progress_notify)
        }
    }
}

/// One line of a watch stream: `{"result": {...}}`, or `{"error": {...}}` when the server ends the stream.
struct WireWatchMessage: WireResponse {
    struct Event: WireResponse {
        var type: String?
        var kv: WireKeyValue

        init(json: JSONValue) throws(JSONError) {
            self.type = try json.string(at: "type")
            guard let kv = try json.decode(WireKeyValue.self, at: "kv") else {
                throw JSONError(message: "field kv is missing")
            }
            self.kv = kv
        }
    }

    struct Result: WireResponse {
        var header: WireHeader?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: WireInt64?
        var cancel_reason: String?
        var events: [Event]?

        init(json: JSONValue) throws(JSONError) {
            self.header = try json.decode(WireHeader.self, at: "header")
            self.created = try json.bool(at: "created")
            self.canceled = try json.bool(at: "canceled")
            self.compact_revision = try json.int64(at: "compact_revision")
            self.cancel_reason = try json.string(at: "cancel_reason")
            self.events = try json.decodeArray(Event.self, at: "events")
        }
    }

    struct StreamError: WireResponse {
        var grpc_code: Int?
        var http_code: Int?
        var message: String?

        init(json: JSONValue) throws(JSONError) {
            self.grpc_code = try json["grpc_code"].map { json throws(JSONError) in try json.int("grpc_code") }
            self.http_code = try json["http_code"].map { json throws(JSONError) in try json.int("http_code") }
            self.message = try json.string(at: "message")
        }
    }

    var result: Result?
    var error: StreamError?

    init(json: JSONValue) throws(JSONError) {
        self.result = try json.decode(Result.self, at: "result")
        self.error = try json.decode(StreamError.self, at: "error")
    }
}
