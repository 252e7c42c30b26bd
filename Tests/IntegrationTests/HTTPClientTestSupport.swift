// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Testing

/// Helpers for the ``HTTPClient`` tests: etcd's JSON gateway, spoken directly.
enum EtcdGateway {
    /// The plain etcd instance's URL.
    static func endpoint() throws -> String {
        try TestServers.value("BEACON_ETCD_ENDPOINT")
    }

    /// Standard base64 of a string's UTF-8 bytes, as etcd's `bytes` fields need.
    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    /// The text of a base64 field.
    static func decode(_ base64: String) -> String? {
        Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The `range_end` of a prefix: the prefix with its last byte incremented (prefixes here are ASCII).
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        bytes[bytes.count - 1] += 1
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A unique key prefix for one test.
    static func uniquePrefix(_ test: String) -> String {
        "/beacon-tests/http/\(test)/\(UUID().uuidString)/"
    }

    /// A POST of a JSON body to a gateway path.
    static func post(_ path: String, json: String, timeout: Duration? = nil) throws -> HTTPRequest {
        HTTPRequest(
            method: "POST",
            url: try endpoint() + path,
            headers: [("Content-Type", "application/json")],
            body: Array(json.utf8),
            timeout: timeout
        )
    }

    /// The body of `/v3/kv/put` for a key and value.
    static func putBody(key: String, value: String) -> String {
        #"{"key":"\#(base64(key))","value":"\#(base64(value))"}"#
    }

    /// The body of a `/v3/watch` create request for every key under a prefix.
    static func watchBody(prefix: String) -> String {
        #"{"create_request":{"key":"\#(base64(prefix))","range_end":"\#(base64(prefixEnd(prefix)))"}}"#
    }

    /// Parses a JSON object.
    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// The number of keys under a prefix, as the gateway writes it (a string), read through the client.
    static func count(_ client: HTTPClient, prefix: String) async throws -> String? {
        let key = base64(prefix)
        let end = base64(prefixEnd(prefix))
        let range = try await client.execute(
            post("/v3/kv/range", json: #"{"key":"\#(key)","range_end":"\#(end)","count_only":true}"#)
        )
        return try object(range.body)["count"] as? String
    }

    /// Puts a key through the client and checks the status.
    static func put(_ client: HTTPClient, key: String, value: String) async throws {
        let response = try await client.execute(post("/v3/kv/put", json: putBody(key: key, value: value)))
        #expect(response.status == 200)
    }
}

/// Splits a streamed body into lines, whatever the chunk boundaries.
struct LineSplitter {
    private var pending: [UInt8] = []

    /// Adds a chunk and returns the lines it completed, without their `\n`.
    mutating func append(_ chunk: [UInt8]) -> [[UInt8]] {
        self.pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        while let newline = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Array(self.pending[..<newline]))
            self.pending.removeSubrange(...newline)
        }
        return lines
    }
}

/// Reads watch messages (one JSON object per line) from a stream.
struct WatchReader {
    private var iterator: HTTPResponseStream.AsyncIterator
    private var splitter = LineSplitter()
    private var ready: [[String: Any]] = []

    init(_ stream: HTTPResponseStream) {
        self.iterator = stream.makeAsyncIterator()
    }

    /// The next message's `result` object, or `nil` at the end of the stream.
    mutating func next() async throws -> [String: Any]? {
        while self.ready.isEmpty {
            guard let chunk = try await self.iterator.next() else { return nil }
            for line in self.splitter.append(chunk) where !line.isEmpty {
                let message = try EtcdGateway.object(line)
                self.ready.append(try #require(message["result"] as? [String: Any]))
            }
        }
        return self.ready.removeFirst()
    }

    /// Reads messages until `count` events arrived, and returns the events' keys in order.
    mutating func keys(count: Int) async throws -> [String] {
        var keys: [String] = []
        while keys.count < count {
            let result = try #require(try await self.next())
            for event in result["events"] as? [[String: Any]] ?? [] {
                let kv = try #require(event["kv"] as? [String: Any])
                let key = try #require(kv["key"] as? String)
                keys.append(try #require(EtcdGateway.decode(key)))
            }
        }
        return keys
    }
}
