// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@_spi(Benchmarks) @testable import BeaconConsul

/// The Consul client's mapping of keys, its encoding of requests and its decoding of Consul's documented answers.
@Suite("Consul wire format")
struct ConsulWireTests {
    @Test("Beacon keys lose their leading '/' going out and get it back coming in")
    func keyMapping() throws {
        #expect(ConsulClient.consulKey("/db/main") == "db/main")
        #expect(ConsulClient.consulKey("db/main") == "db/main")
        #expect(ConsulClient.beaconKey("db/main") == "/db/main")
        #expect(try ConsulClient.validate("/db/main", operation: "kv get") == "db/main")
        for bad in ["/", "", "/a/../b", "/ spaced"] {
            #expect(throws: ConsulError.self) { try ConsulClient.validate(bad, operation: "kv get") }
        }
        #expect(ConsulClient.kvPath("web/a b%") == "/v1/kv/web/a%20b%25")
    }

    @Test("a KV answer as the documentation shows it: an array, base64 values, null for an empty body")
    func kvEntries() throws {
        let body = """
            [{"CreateIndex":100,"ModifyIndex":200,"LockIndex":200,"Key":"zip","Flags":0,"Value":"dGVzdA==",
              "Session":"adf4238a-882b-9ddc-4a9d-5b6758e4159e"},
             {"CreateIndex":3,"ModifyIndex":4,"LockIndex":0,"Key":"empty","Flags":0,"Value":null},
             {"CreateIndex":5,"ModifyIndex":5,"LockIndex":0,"Key":"folder/","Flags":0,"Value":null}]
            """
        let entries = try ConsulClient.entries(Array(body.utf8), operation: "kv list", subject: "/", agent: "test")
        #expect(
            entries == [
                KeyValue(key: "/zip", string: "test", version: 200), KeyValue(key: "/empty", value: [], version: 4),
            ]
        )
        #expect(throws: ConsulError.self) {
            try ConsulClient.entries(Array("{}".utf8), operation: "kv list", subject: "/", agent: "test")
        }
    }

    @Test("a get's answer gives the entry of the key read, and nothing for an answer about another key")
    func getAnswer() throws {
        let answer = #"[{"CreateIndex":1,"ModifyIndex":7,"LockIndex":0,"Key":"db/main","Flags":0,"Value":"eA=="}]"#
        let body = Array(answer.utf8)
        #expect(
            try ConsulClient.decodeGetAnswer(body, key: "/db/main", agent: "test")
                == KeyValue(key: "/db/main", string: "x", version: 7)
        )
        #expect(try ConsulClient.decodeGetAnswer(body, key: "/db/other", agent: "test") == nil)
        #expect(throws: ConsulError.self) { try ConsulClient.decodeGetAnswer(body, key: "/", agent: "test") }
    }

    @Test("a wrong KV answer's error names the field and where, never the value; a repeated member's first counts")
    func kvEntriesRefused() throws {
        func message(_ body: String) -> String? {
            do {
                _ = try ConsulClient.entries(Array(body.utf8), operation: "kv get", subject: "/a", agent: "test")
                return nil
            } catch {
                #expect(error.code == .invalidResponse)
                return error.message
            }
        }
        let prefix = "the answer is not Consul's KV JSON: "
        #expect(message(#"{"Key":"a"}"#) == prefix + "field entries is not an array at line 1, column 1")
        #expect(message(#"["a"]"#) == prefix + "field entry is not an object at line 1, column 2")
        #expect(message(#"[{"Value":"dGVzdA=="}]"#) == prefix + "field Key is not a string")
        #expect(
            message(#"[{"Key":"a","Value":"s3cr3t!"}]"#) == prefix
                + "field Value is not valid base64 at line 1, column 21"
        )
        #expect(
            message(#"[{"Key":"a","ModifyIndex":"x"}]"#) == prefix
                + "field ModifyIndex is not a 64-bit integer at line 1, column 27"
        )
        #expect(message(#"[{"Key":"a"},]"#) == prefix + "unexpected ']', expected a value at line 1, column 14")
        let repeated = #"[{"Key":"a","Value":"dGVzdA==","ModifyIndex":7,"Key":"b","Value":null,"ModifyIndex":8}]"#
        let entries = try ConsulClient.entries(Array(repeated.utf8), operation: "kv get", subject: "/a", agent: "test")
        #expect(entries == [KeyValue(key: "/a", string: "test", version: 7)])
    }

    @Test("a health answer as the documentation shows it: service address, else node address; weight; metadata")
    func healthEntry() throws {
        let body = """
            [{"Node":{"ID":"40e4a748","Node":"foobar","Address":"10.1.10.12","Datacenter":"dc1",
                      "TaggedAddresses":{"lan":"10.1.10.12","wan":"10.1.10.12"},"Meta":{"instance_type":"t2.medium"}},
              "Service":{"ID":"redis","Service":"redis","Tags":["primary"],"Address":"",
                         "TaggedAddresses":{"lan":{"address":"10.1.10.12","port":8000}},
                         "Meta":{"redis_version":"4.0"},"Port":8000,"Weights":{"Passing":10,"Warning":1},
                         "Namespace":"default"},
              "Checks":[]}]
            """
        let entry = try JSONValue.parse(Array(body.utf8)).array("entries")[0]
        let instance = try ConsulClient.instance(from: entry)
        #expect(
            instance
                == ServiceInstance(
                    service: "redis",
                    id: "redis",
                    endpoint: Endpoint(host: "10.1.10.12", port: 8000, weight: 10),
                    metadata: ["redis_version": "4.0"]
                )
        )
    }

    @Test("the registration body: ID, Name, Address, Port, Meta, Weights and a passing TTL check")
    func registrationBody() throws {
        let client = try ConsulClient(configuration: .init(agents: ["http://127.0.0.1:1"]))
        defer { client.close() }
        let instance = ServiceInstance(
            service: "web",
            id: "web-1",
            endpoint: Endpoint(host: "10.0.0.7", port: 8080, weight: 5),
            metadata: ["zone": "a"]
        )
        let keeper = ServiceKeeper(client: client, instance: instance, ttl: .seconds(15))
        let json = try JSONValue.parse(keeper.body)
        #expect(try json["ID"]?.string("ID") == "web-1")
        #expect(try json["Name"]?.string("Name") == "web")
        #expect(try json["Address"]?.string("Address") == "10.0.0.7")
        #expect(json["Port"] == .number("8080"))
        #expect(try json["Meta"]?["zone"]?.string("zone") == "a")
        #expect(json["Weights"]?["Passing"] == .number("5"))
        let check = try #require(json["Check"])
        #expect(try check["CheckID"]?.string("CheckID") == "service:web-1:ttl")
        #expect(try check["TTL"]?.string("TTL") == "15s")
        #expect(try check["Status"]?.string("Status") == "passing")
        #expect(try check["DeregisterCriticalServiceAfter"]?.string("D") == "60s")
    }

    @Test("durations are written as Go reads them")
    func goDurations() {
        #expect(Duration.seconds(300).goDuration == "300s")
        #expect(Duration.milliseconds(1500).goDuration == "1500ms")
    }

    @Test("the token never appears in a description")
    func tokenIsMasked() {
        let configuration = ConsulClient.Configuration(token: .init("s3cr3t-token"))
        #expect("\(configuration.token!)" == "********")
        #expect(!"\(configuration)".contains("s3cr3t-token"))
    }
}
