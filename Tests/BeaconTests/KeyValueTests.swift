// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Testing

@Suite("KeyValue, snapshots and errors")
struct KeyValueTests {
    @Test("the string view decodes UTF-8 and tolerates invalid bytes")
    func stringView() {
        #expect(KeyValue(key: "/a", string: "héllo").string == "héllo")
        #expect(KeyValue(key: "/a", value: [0x61, 0xFF]).string == "a\u{FFFD}")
    }

    @Test("a value that is not an endpoint names the key and the value")
    func endpointValue() throws {
        let good = KeyValue(key: "/db/main/endpoint", string: "db:5432", version: 7)
        #expect(try good.endpoint() == Endpoint(host: "db", port: 5432))
        let bad = KeyValue(key: "/db/main/endpoint", string: "db:54x")
        let error = #expect(throws: BeaconError.self) { try bad.endpoint() }
        #expect(error?.code == .invalidValue)
        #expect(error?.key == "/db/main/endpoint")
        #expect(error?.text == "db:54x")
        #expect(error?.description == #"invalid value "db:54x" at key "/db/main/endpoint": port "54x" is not a number"#)
    }

    @Test("snapshots are sorted and searchable by key")
    func snapshots() {
        let snapshot = DiscoverySnapshot(
            prefix: "/s/",
            entries: [
                KeyValue(key: "/s/b", string: "2"), KeyValue(key: "/s/a", string: "1"),
                KeyValue(key: "/s/c", string: "3"),
            ]
        )
        #expect(snapshot.map(\.key) == ["/s/a", "/s/b", "/s/c"])
        #expect(snapshot[key: "/s/b"]?.string == "2")
        #expect(snapshot[key: "/s/d"] == nil)
        #expect(snapshot[key: "/s/"] == nil)
    }

    @Test("the description shortens long values")
    func description() {
        let entry = KeyValue(key: "/k", string: String(repeating: "x", count: 100), version: 3)
        #expect(entry.description.hasSuffix("...\" (version 3)"))
    }

    @Test("service instances round-trip through the key convention")
    func serviceInstances() throws {
        let instance = ServiceInstance(
            service: "web",
            id: "web-1",
            endpoint: Endpoint(host: "10.0.0.5", port: 8080, weight: 2),
            metadata: ["zone": "a"]
        )
        #expect(instance.key() == "/services/web/web-1")
        #expect(instance.key(prefix: "/apps/") == "/apps/web/web-1")
        #expect(
            instance.encodedValue()
                == Array(
                    #"{"host":"10.0.0.5","id":"web-1","metadata":{"zone":"a"},"port":8080,"service":"web","weight":2}"#
                        .utf8
                )
        )
        let decoded = try ServiceInstance(decoding: KeyValue(key: instance.key(), value: instance.encodedValue()))
        #expect(decoded == instance)
        let error = #expect(throws: BeaconError.self) {
            try ServiceInstance(decoding: KeyValue(key: "/services/web/x", string: "10.0.0.5:80"))
        }
        #expect(error?.key == "/services/web/x")
        #expect(throws: BeaconError.self) {
            try ServiceInstance(service: "a/b", id: "1", endpoint: Endpoint(host: "h", port: 1)).validate()
        }
    }

    @Test("a value that is not UTF-8 round-trips through JSON as base64")
    func codableBase64() throws {
        let entry = KeyValue(key: "/blob", value: [0xFF, 0x00, 0x80], version: 3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let json = try encoder.encode(entry)
        #expect(String(decoding: json, as: UTF8.self).contains(#""valueBase64":"/wCA""#))
        #expect(try JSONDecoder().decode(KeyValue.self, from: json) == entry)
        let damaged = Data(#"{"key": "/blob", "valueBase64": "/wC"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KeyValue.self, from: damaged) }
    }
}
