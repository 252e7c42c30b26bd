// SPDX-License-Identifier: Apache-2.0

import FuzzSupport

@testable import Beacon
@testable import BeaconConsul

/// One fuzz input: the body of a Consul agent's answer, decoded as a KV answer (`ConsulClient.entries`, as the
/// KV reads and watches call it), as a health answer (each entry through `ConsulClient.instance(from:)`, as
/// `readInstances` calls it) and as a `true`/`false` write answer. Thrown errors are fine; anything else is a
/// finding.
func fuzzConsulResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = FuzzInput.bytes(data, size)
    _ = try? ConsulClient.entries(body, operation: "kv list", subject: "/", agent: "http://127.0.0.1:8500")
    _ = try? JSONValue.parse(body).array("entries").map(ConsulClient.instance(from:))
    _ = try? ConsulClient.boolean(body, operation: "kv put", subject: "/", agent: "http://127.0.0.1:8500")
    return 0
}
