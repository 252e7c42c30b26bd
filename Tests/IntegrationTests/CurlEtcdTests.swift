// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl
import Foundation
import Testing

/// libcurl, called directly, against the etcd servers of `scripts/servers`.
@Suite("libcurl against etcd", .requiresServers, .timeLimit(.minutes(1)))
struct CurlEtcdTests {
    /// Collects a response body from libcurl's write callback.
    final class Body {
        var bytes: [UInt8] = []
    }

    /// POSTs JSON with a blocking easy handle (fine in a test; the library's client uses curl_multi).
    static func post(_ url: String, json: String, headers: [String] = []) throws -> (status: Int, body: [UInt8]) {
        guard let handle = curl_easy_init() else { throw CurlFailure(message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let body = Body()
        let context = Unmanaged.passRetained(body)
        defer { context.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in ["Content-Type: application/json"] + headers {
            headerList = curl_slist_append(headerList, header)
        }
        defer { curl_slist_free_all(headerList) }

        try check(cbeacon_curl_easy_setopt_string(handle, CURLOPT_URL, url))
        try check(cbeacon_curl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, json))
        try check(cbeacon_curl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList)))
        try check(cbeacon_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, 10_000))
        try check(cbeacon_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(cbeacon_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()))
        try check(
            cbeacon_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let body = Unmanaged<Body>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    body.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
                return length
            }
        )
        try check(curl_easy_perform(handle))
        var status = 0
        try check(cbeacon_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        return (status, body.bytes)
    }

    struct CurlFailure: Error {
        var message: String
    }

    static func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw CurlFailure(message: String(cString: curl_easy_strerror(code))) }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("libcurl reports its version and HTTP support")
    func version() {
        let info = cbeacon_curl_version_info()
        let version = String(cString: info.pointee.version)
        #expect(version.split(separator: ".").count == 3)
        #expect(info.pointee.features & CURL_VERSION_SSL != 0)
    }

    @Test(
        "a key put over the v3 JSON gateway reads back",
        arguments: ["BEACON_ETCD_ENDPOINT", "BEACON_ETCD_CLUSTER_ENDPOINTS"]
    )
    func putAndRange(variable: String) throws {
        // The last cluster member: the failover tests stop the first one.
        let endpoint = try #require(try TestServers.value(variable).split(separator: ",").last.map(String.init))
        let key = "/beacon-tests/curl/\(UUID().uuidString)"
        let put = try Self.post(
            "\(endpoint)/v3/kv/put",
            json: #"{"key":"\#(Self.base64(key))","value":"\#(Self.base64("127.0.0.1:8001"))"}"#
        )
        #expect(put.status == 200)

        let range = try Self.post("\(endpoint)/v3/kv/range", json: #"{"key":"\#(Self.base64(key))"}"#)
        #expect(range.status == 200)
        let kvs = try #require(try Self.json(range.body)["kvs"] as? [[String: Any]])
        let value = try #require(kvs.first?["value"] as? String)
        #expect(Data(base64Encoded: value) == Data("127.0.0.1:8001".utf8))
    }

    @Test("the auth-enabled etcd rejects a request without a token and accepts one with")
    func authentication() throws {
        let endpoint = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = try TestServers.value("BEACON_ETCD_AUTH_PASSWORD")
        let key = Self.base64("/beacon-tests/auth")

        let anonymous = try Self.post("\(endpoint)/v3/kv/range", json: #"{"key":"\#(key)"}"#)
        #expect(anonymous.status == 400)

        let login = try Self.post(
            "\(endpoint)/v3/auth/authenticate",
            json: #"{"name":"\#(user)","password":"\#(password)"}"#
        )
        #expect(login.status == 200)
        let token = try #require(try Self.json(login.body)["token"] as? String)
        let authorized = try Self.post(
            "\(endpoint)/v3/kv/range",
            json: #"{"key":"\#(key)"}"#,
            headers: ["Authorization: \(token)"]
        )
        #expect(authorized.status == 200)
    }
}
