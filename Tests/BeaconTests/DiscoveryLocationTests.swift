// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("DiscoveryLocation")
struct DiscoveryLocationTests {
    @Test("each kind answers its own accessor, and says what to watch")
    func kinds() {
        let key = DiscoveryLocation.key("/config/memcached")
        #expect(key.key == "/config/memcached")
        #expect(key.prefix == nil && key.patroni == nil)
        #expect(key.watchPrefix == "/config/memcached")
        #expect(key.description == "key /config/memcached")

        let prefix = DiscoveryLocation.prefix("/services/memcached/")
        #expect(prefix.prefix == "/services/memcached/")
        #expect(prefix.key == nil && prefix.patroni == nil)
        #expect(prefix.watchPrefix == "/services/memcached/")
        #expect(prefix.description == "prefix /services/memcached/")

        let leader = DiscoveryLocation.patroniLeader(scope: "beacon")
        #expect(leader.key == nil && leader.prefix == nil)
        #expect(leader.patroni?.scope == "beacon")
        #expect(leader.patroni?.leaderKey == "/service/beacon/leader")
        #expect(leader.patroni?.memberKey("n1") == "/service/beacon/members/n1")
        #expect(leader.watchPrefix == "/service/beacon/")
        #expect(leader.description == "patroni leader /service/beacon/")

        #expect(key != .prefix("/config/memcached"))
        #expect(Set([key, prefix, leader, .key("/config/memcached")]).count == 3)
    }

    @Test(
        "a Patroni namespace is joined to the scope as Patroni joins it",
        arguments: ["service", "/service", "/service/"]
    )
    func patroniNamespace(namespace: String) {
        let leader = DiscoveryLocation.patroniLeader(scope: "beacon", namespace: namespace)
        #expect(leader.watchPrefix == "/service/beacon/")
        #expect(leader.patroni?.namespace == namespace)
        #expect(DiscoveryLocation.patroniLeader(scope: "b", namespace: "/").watchPrefix == "/b/")
    }
}

@Suite("DiscoveryLocation endpoints: endpoint text and ServiceInstance JSON")
struct DiscoveryLocationEndpointTests {
    static let instance = ServiceInstance(
        service: "memcached",
        id: "m2",
        endpoint: Endpoint(host: "10.0.0.2", port: 11311, weight: 3)
    )

    static func snapshot(_ prefix: String, _ entries: [String: String]) -> DiscoverySnapshot {
        DiscoverySnapshot(prefix: prefix, entries: entries.map { KeyValue(key: $0.key, string: $0.value) })
    }

    @Test("a value may be endpoint text or a ServiceInstance as JSON")
    func keyValueShapes() throws {
        let json = KeyValue(key: "/services/memcached/m2", value: Self.instance.encodedValue())
        #expect(try json.endpoint() == Endpoint(host: "10.0.0.2", port: 11311, weight: 3))
        let spaced = KeyValue(key: "/k", string: "  \n" + json.string)
        #expect(try spaced.endpoint().port == 11311)
        #expect(try KeyValue(key: "/k", string: "10.0.0.1").endpoint(defaultPort: 11211).port == 11211)

        let broken = KeyValue(key: "/services/memcached/m3", string: #"{"host": "10.0.0.3"}"#)
        let error = #expect(throws: BeaconError.self) { try broken.endpoint() }
        #expect(error?.code == .invalidValue)
        #expect(error?.key == "/services/memcached/m3")
        #expect(error?.text == #"{"host": "10.0.0.3"}"#)
    }

    @Test("under a prefix, both shapes mix, in key order; entries outside the prefix are ignored")
    func prefixShapes() throws {
        let mixed = DiscoverySnapshot(
            prefix: "/services/memcached/",
            entries: [
                KeyValue(key: "/services/memcached/m2", value: Self.instance.encodedValue()),
                KeyValue(key: "/services/memcached/m1", string: "10.0.0.1"),
                KeyValue(key: "/services/memcached-other/x", string: "garbage"),
            ]
        )
        let endpoints = try DiscoveryLocation.prefix("/services/memcached/").endpoints(in: mixed, defaultPort: 11211)
        #expect(endpoints.map(\.description) == ["10.0.0.1:11211", "10.0.0.2:11311?weight=3"])
    }

    @Test("an offending value under a prefix names its key and its text")
    func prefixError() {
        let snapshot = Self.snapshot("/s/", ["/s/a": "10.0.0.1:11211", "/s/b": "10.0.0.2:11x"])
        let error = #expect(throws: BeaconError.self) {
            try DiscoveryLocation.prefix("/s/").endpoints(in: snapshot, defaultPort: nil)
        }
        #expect(error?.key == "/s/b")
        #expect(error?.text == "10.0.0.2:11x")
    }

    @Test("one key holds a comma-separated list, or one ServiceInstance as JSON; an absent key holds none")
    func keyShapes() throws {
        let location = DiscoveryLocation.key("/config/memcached")
        let list = Self.snapshot(
            "/config/memcached",
            ["/config/memcached": "a:1, b?weight=2,", "/config/memcached2": "x"]
        )
        #expect(try location.endpoints(in: list, defaultPort: 11211).map(\.description) == ["a:1", "b:11211?weight=2"])
        let json = DiscoverySnapshot(
            prefix: "/config/memcached",
            entries: [KeyValue(key: "/config/memcached", value: Self.instance.encodedValue())]
        )
        #expect(try location.endpoints(in: json, defaultPort: nil) == [Self.instance.endpoint])
        #expect(try location.endpoints(in: Self.snapshot("/config/memcached", [:]), defaultPort: nil) == [])
        let bad = Self.snapshot("/config/memcached", ["/config/memcached": "a:1,b:"])
        let error = #expect(throws: BeaconError.self) { try location.endpoints(in: bad, defaultPort: nil) }
        #expect(error?.key == "/config/memcached")
        #expect(error?.text == "a:1,b:")
    }

    @Test("a Patroni leader: the leader key names the member, whose conn_url gives host, port and database")
    func patroniLeader() throws {
        let location = DiscoveryLocation.patroniLeader(scope: "beacon")
        let cluster = try #require(location.patroni)
        let members = [
            "/service/beacon/leader": "n2",
            "/service/beacon/members/n1":
                #"{"conn_url":"postgres://127.0.0.1:26432/postgres","role":"master","state":"running"}"#,
            // Right after a failover the new leader may still say replica: the leader key wins.
            "/service/beacon/members/n2":
                #"{"conn_url":"postgres://127.0.0.1:26433/postgres","role":"replica","state":"running"}"#,
            "/service/beacon/config": #"{"ttl":10}"#,
        ]
        let snapshot = Self.snapshot(location.watchPrefix, members)
        let leader = try #require(try cluster.leader(in: snapshot))
        #expect(leader.name == "n2")
        #expect(leader.endpoint == Endpoint(host: "127.0.0.1", port: 26433))
        #expect(leader.database == "postgres")
        #expect(leader.role == "replica")
        #expect(try location.endpoints(in: snapshot, defaultPort: nil) == [Endpoint(host: "127.0.0.1", port: 26433)])

        var leaderless = members
        leaderless["/service/beacon/leader"] = nil
        #expect(try cluster.leader(in: Self.snapshot(location.watchPrefix, leaderless)) == nil)
        #expect(try location.endpoints(in: Self.snapshot(location.watchPrefix, leaderless), defaultPort: nil) == [])

        var orphan = members
        orphan["/service/beacon/leader"] = "n3"
        let missing = #expect(throws: BeaconError.self) {
            try cluster.leader(in: Self.snapshot(location.watchPrefix, orphan))
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.key == "/service/beacon/members/n3")
    }

    @Test("a member's conn_url: credentials are dropped and never quoted; bad values name the key")
    func patroniMember() throws {
        let key = "/service/beacon/members/n1"
        let withCredentials = KeyValue(key: key, string: #"{"conn_url":"postgresql://su:hunter22@[::1]:26432/db?x=1"}"#)
        let member = try DiscoveryLocation.PatroniMember(name: "n1", decoding: withCredentials)
        #expect(member.endpoint == Endpoint(host: "::1", port: 26432))
        #expect(member.database == "db")
        #expect(member.description == "n1 at [::1]:26432")

        let noPort = KeyValue(key: key, string: #"{"conn_url":"postgres://db-1.internal"}"#)
        #expect(try DiscoveryLocation.PatroniMember(name: "n1", decoding: noPort).endpoint.port == 5432)

        for bad in [
            #"{"conn_url":"mysql://su:hunter22@h:1/db"}"#, #"{"conn_url":"postgres://su:hunter22@h:x/db"}"#,
            #"{"role":"replica"}"#, "not json postgres://su:hunter22@h:1",
        ] {
            let error = #expect(throws: BeaconError.self) {
                try DiscoveryLocation.PatroniMember(name: "n1", decoding: KeyValue(key: key, string: bad))
            }
            #expect(error?.key == key)
            #expect(error?.code == .invalidValue)
            #expect(!"\(error.map { "\($0)" } ?? "")".contains("hunter22"))
        }
    }
}
