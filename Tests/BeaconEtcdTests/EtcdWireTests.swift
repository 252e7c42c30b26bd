// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@testable import BeaconEtcd

@Suite("etcd wire JSON")
struct EtcdWireTests {
    @Test("a range answer as etcd's gateway writes it: int64 as strings, bytes as base64, zero fields omitted")
    func rangeResponse() throws {
        let document = #"""
            {"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"42",
            "raft_term":"3"},"kvs":[{"key":"L2RiL21haW4vZW5kcG9pbnQ=","create_revision":"40","mod_revision":"42",
            "version":"3","value":"MTAuMC4wLjU6NTQzMg=="}],"count":"1"}
            """#
        let response = try WireRangeResponse(document: Array(document.utf8))
        #expect(response.header?.revision?.value == 42)
        #expect(response.count?.value == 1)
        #expect(response.more == nil)
        let entry = try #require(response.kvs?.first)
        #expect(entry.keyValue.key == "/db/main/endpoint")
        #expect(entry.keyValue.value == Array("10.0.0.5:5432".utf8))
        #expect(entry.keyValue.modRevision == 42)
        #expect(entry.lease == nil)
    }

    @Test("an empty answer and an entry without a value (the empty value) decode")
    func omittedFields() throws {
        let empty = try WireRangeResponse(document: Array(#"{"header":{"revision":"7"}}"#.utf8))
        #expect(empty.kvs == nil)
        let entry = try WireRangeResponse(document: Array(#"{"kvs":[{"key":"YQ=="}]}"#.utf8))
        #expect(entry.kvs?.first?.keyValue.value == [])
    }

    @Test("a keep-alive answer: a live lease has a TTL, a lost one a result without it, a failed stream an error")
    func keepAliveAnswers() throws {
        let live = try WireLeaseKeepAliveResponse(
            document: Array(#"{"result":{"header":{"revision":"9"},"ID":"77","TTL":"10"}}"#.utf8)
        )
        #expect(live.result?.TTL?.value == 10)
        let lost = try WireLeaseKeepAliveResponse(
            document: Array(#"{"result":{"header":{"revision":"9"},"ID":"77"}}"#.utf8)
        )
        #expect(lost.result != nil && lost.result?.TTL == nil)
        // Not a lost lease: the client must retry rather than grant a new lease and write the keys again.
        let failed = try WireLeaseKeepAliveResponse(
            document: Array(
                #"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: request timed out","http_status":"Service Unavailable"}}"#
                    .utf8
            )
        )
        #expect(failed.result == nil)
        #expect(failed.error?.message == "etcdserver: request timed out")
        #expect(failed.error?.grpc_code == 14)
    }

    @Test("integers are read from strings and from numbers")
    func integers() throws {
        let grant = try WireLeaseGrantResponse(document: Array(#"{"ID":"7587883301530441234","TTL":5}"#.utf8))
        #expect(grant.ID?.value == 7_587_883_301_530_441_234)
        #expect(grant.TTL?.value == 5)
        let error = try WireErrorResponse(document: Array(#"{"error":"x","message":"lease not found","code":5}"#.utf8))
        #expect(error.code == 5)
        #expect(error.message == "lease not found")
    }

    @Test("watch messages: events, progress notifications, cancellation with a compact revision, stream errors")
    func watchMessages() throws {
        let events = try WireWatchMessage(
            document: Array(
                #"{"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"YQ==","mod_revision":"9","value":"MQ=="}},{"type":"DELETE","kv":{"key":"Yg==","mod_revision":"9"}}]}}"#
                    .utf8
            )
        )
        #expect(events.result?.events?.count == 2)
        #expect(events.result?.events?[0].type == nil)
        #expect(events.result?.events?[1].type == "DELETE")
        let cancelled = try WireWatchMessage(
            document: Array(
                #"{"result":{"canceled":true,"compact_revision":"5","cancel_reason":"mvcc: required revision has been compacted"}}"#
                    .utf8
            )
        )
        #expect(cancelled.result?.canceled == true)
        #expect(cancelled.result?.compact_revision?.value == 5)
        let failure = try WireWatchMessage(
            document: Array(
                #"{"error":{"grpc_code":14,"http_code":503,"message":"unavailable","http_status":503}}"#.utf8
            )
        )
        #expect(failure.error?.grpc_code == 14)
        #expect(failure.error?.message == "unavailable")
    }

    @Test("a field of the wrong type names the field")
    func wrongTypes() {
        let notArray = #expect(throws: JSONError.self) {
            try WireRangeResponse(document: Array(#"{"kvs":{}}"#.utf8))
        }
        #expect(notArray?.message == "field kvs is not an array")
        let notBase64 = #expect(throws: JSONError.self) {
            try WireRangeResponse(document: Array(#"{"kvs":[{"key":"***"}]}"#.utf8))
        }
        #expect(notBase64?.message == "field key is not valid base64")
        let notInteger = #expect(throws: JSONError.self) {
            try WirePutResponse(document: Array(#"{"header":{"revision":"x1"}}"#.utf8))
        }
        #expect(notInteger?.message == "field revision is not a 64-bit integer")
        let notObject = #expect(throws: JSONError.self) { try WirePutResponse(document: Array("[]".utf8)) }
        #expect(notObject?.message == "field (the document) is not an object")
    }

    @Test("requests are written as the gateway expects: base64 bytes, int64 as strings, nil fields left out")
    func requests() {
        let range = WireRangeRequest(key: WireBytes("/a"), range_end: WireBytes("/a").prefixRangeEnd)
        #expect(String(decoding: range.json, as: UTF8.self) == #"{"key":"L2E=","range_end":"L2I="}"#)
        let put = WirePutRequest(key: WireBytes("k"), value: WireBytes([0, 255]), lease: WireInt64(-1))
        #expect(String(decoding: put.json, as: UTF8.self) == #"{"key":"aw==","value":"AP8=","lease":"-1"}"#)
        let txn = WireTxnRequest(
            compare: [WireCompare(key: WireBytes("k"), target: "MOD", result: "EQUAL", mod_revision: WireInt64(3))],
            success: [WireRequestOp(request_put: WirePutRequest(key: WireBytes("k"), value: WireBytes("v")))],
            failure: []
        )
        #expect(
            String(decoding: txn.json, as: UTF8.self)
                == #"{"compare":[{"key":"aw==","target":"MOD","result":"EQUAL","mod_revision":"3"}],"#
                + #""success":[{"request_put":{"key":"aw==","value":"dg=="}}],"failure":[]}"#
        )
        let watch = WireWatchRequest(
            create_request: .init(
                key: WireBytes("a"),
                range_end: WireBytes("b"),
                start_revision: WireInt64(10),
                progress_notify: true
            )
        )
        #expect(
            String(decoding: watch.json, as: UTF8.self)
                == #"{"create_request":{"key":"YQ==","range_end":"Yg==","start_revision":"10","progress_notify":true}}"#
        )
    }

    @Test("strings in requests are escaped and survive a round trip through the reader")
    func escapedStrings() throws {
        let password = "p\"w\\d\n\u{01}é😀"
        let json = WireAuthenticateRequest(name: "beacon", password: password).json
        let parsed = try JSONValue.parse(json)
        #expect(parsed["password"] == .string(password))
        #expect(parsed["name"] == .string("beacon"))
    }
}
