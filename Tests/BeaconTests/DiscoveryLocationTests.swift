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
