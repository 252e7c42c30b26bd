// SPDX-License-Identifier: Apache-2.0

import FuzzSupport

@testable import Beacon
@testable import BeaconEtcd

/// One fuzz input: the body of an etcd gateway answer, decoded as every answer the client reads (through
/// `WireResponse.init(document:)`, as `EtcdTransport` does), as an error answer, and as a watch stream whose
/// newline-separated messages the watch decodes one by one. Thrown errors are fine; anything else is a finding.
func fuzzEtcdWire(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = FuzzInput.bytes(data, size)
    _ = try? JSONValue.parse(body)
    if let range = try? WireRangeResponse(document: body) {
        _ = (range.kvs ?? []).map(EtcdClient.keyValue)
    }
    _ = try? WirePutResponse(document: body)
    _ = try? WireDeleteResponse(document: body)
    _ = try? WireTxnResponse(document: body)
    _ = try? WireLeaseGrantResponse(document: body)
    _ = try? WireLeaseKeepAliveResponse(document: body)
    _ = try? WireLeaseTimeToLiveResponse(document: body)
    _ = try? WireLeaseLeasesResponse(document: body)
    _ = try? WireEmptyResponse(document: body)
    _ = try? WireAuthenticateResponse(document: body)
    _ = EtcdTransport.serverError("range", endpoint: "http://127.0.0.1:2379", status: 400, body: body)
    for line in body.split(separator: UInt8(ascii: "\n")) {
        if let message = try? WireWatchMessage(document: Array(line)) {
            _ = (message.result?.events ?? []).map { EtcdClient.keyValue($0.kv) }
        }
    }
    return 0
}
