// SPDX-License-Identifier: Apache-2.0

import Beacon
import FuzzSupport

/// One fuzz input: endpoint text as configuration and discovery deliver it (one `host:port[?weight=N]`, or a
/// comma-separated list). A thrown `BeaconError` is fine; a crash, a trap or a sanitizer report is a finding, and
/// so is an endpoint whose `description` does not parse back to an equal endpoint (the type's documented
/// round trip).
func fuzzEndpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput.text(data, size)
    for defaultPort in [nil, 11211] {
        if let endpoint = try? Endpoint(parsing: text, defaultPort: defaultPort) {
            checkRoundTrip(endpoint, text: text)
        }
    }
    if let endpoints = try? Endpoint.list(parsing: text, defaultPort: 5432) {
        for endpoint in endpoints { checkRoundTrip(endpoint, text: text) }
    }
    return 0
}

private func checkRoundTrip(_ endpoint: Endpoint, text: String) {
    let printed = endpoint.description
    let reparsed: Endpoint
    do {
        reparsed = try Endpoint(parsing: printed)
    } catch {
        fatalError("\(text.debugDescription) parsed to \(printed.debugDescription), which does not parse: \(error)")
    }
    guard reparsed == endpoint else {
        fatalError("\(text.debugDescription) parsed to \(printed.debugDescription), which parses to \(reparsed)")
    }
}
