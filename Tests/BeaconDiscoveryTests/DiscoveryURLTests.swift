// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconDiscovery
import Testing

/// Discovery URLs parsed into what they name, before any client is made; no server needed.
@Suite("Discovery URLs")
struct DiscoveryURLTests {
    @Test("etcd:// and etcds:// list members; file:// names an absolute path")
    func etcdAndFile() throws {
        #expect(
            try DiscoveryURL(parsing: "etcd://10.0.0.1:2379,10.0.0.2:2379/")
                == .etcd(endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"])
        )
        #expect(
            try DiscoveryURL(parsing: "ETCDS://etcd.internal:2379") == .etcd(endpoints: ["https://etcd.internal:2379"])
        )
        #expect(try DiscoveryURL(parsing: "file:///etc/app/services.yaml") == .file(path: "/etc/app/services.yaml"))
    }

    @Test("zookeeper:// lists the ensemble's servers, then an optional chroot")
    func zookeeper() throws {
        #expect(
            try DiscoveryURL(parsing: "zookeeper://127.0.0.1:2181")
                == .zookeeper(servers: ["127.0.0.1:2181"], chroot: nil)
        )
        #expect(
            try DiscoveryURL(parsing: "zookeeper://10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/apps/shop")
                == .zookeeper(servers: ["10.0.0.1:2181", "10.0.0.2:2181", "10.0.0.3:2181"], chroot: "/apps/shop")
        )
        // A trailing slash, or a chroot of "/", changes nothing.
        #expect(
            try DiscoveryURL(parsing: "ZooKeeper://zk.internal:2181/apps/")
                == .zookeeper(servers: ["zk.internal:2181"], chroot: "/apps")
        )
        #expect(
            try DiscoveryURL(parsing: "zookeeper://[::1]:2181/") == .zookeeper(servers: ["[::1]:2181"], chroot: nil)
        )
    }

    @Test("a malformed zookeeper:// URL is an error naming the URL and what is wrong, never a credential")
    func malformedZooKeeper() {
        for (url, problem) in [
            ("zookeeper://", "\"\" is not host:port"),
            ("zookeeper:///apps", "\"\" is not host:port"),
            ("zookeeper://10.0.0.1", "\"10.0.0.1\" is not host:port"),
            ("zookeeper://10.0.0.1:2181,", "\"\" is not host:port"),
            ("zookeeper://10.0.0.1:0", "\"10.0.0.1:0\" is not host:port"),
            ("zookeeper://10.0.0.1:http", "\"10.0.0.1:http\" is not host:port"),
            ("zookeeper://10.0.0.1:2181//apps", "has an empty segment"),
            ("zookeeper://10.0.0.1:2181/apps?x=1", "no user, query or fragment"),
        ] {
            let error = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: url) }
            #expect(error?.code == .invalidValue)
            // A query may hold a token: masked.
            #expect(error?.text == url.replacing("?x=1", with: "?********"))
            #expect(error?.message.contains(problem) == true, "\(error?.message ?? "")")
        }
        // User information is refused, and the refusal masks it.
        let withUser = #expect(throws: BeaconError.self) {
            try DiscoveryURL(parsing: "zookeeper://beacon:zk-secret@10.0.0.1:2181/apps")
        }
        #expect(withUser?.message.contains("credentials come from the configuration") == true)
        #expect(withUser?.text == "zookeeper://********@10.0.0.1:2181/apps")
        #expect(withUser.map { "\($0)" }?.contains("zk-secret") == false)
        let etcdUser = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: "etcd://root:pw@127.0.0.1:2379") }
        #expect(etcdUser?.text == "etcd://********@127.0.0.1:2379")
    }

    @Test("consul:// and consuls:// list agents over http:// and https://")
    func consul() throws {
        #expect(try DiscoveryURL(parsing: "consul://127.0.0.1:8500") == .consul(agents: ["http://127.0.0.1:8500"]))
        #expect(
            try DiscoveryURL(parsing: "Consul://10.0.0.1:8500,10.0.0.2:8500/")
                == .consul(agents: ["http://10.0.0.1:8500", "http://10.0.0.2:8500"])
        )
        #expect(
            try DiscoveryURL(parsing: "consuls://consul.internal:8501,[::1]:8501")
                == .consul(agents: ["https://consul.internal:8501", "https://[::1]:8501"])
        )
    }

    @Test("a malformed consul:// URL names what is wrong; user information, a token or a query are refused, masked")
    func malformedConsul() {
        for (url, problem) in [
            ("consul://", "\"\" is not host:port"),
            ("consul://127.0.0.1", "\"127.0.0.1\" is not host:port"),
            ("consul://127.0.0.1:8500,", "\"\" is not host:port"),
            ("consul://127.0.0.1:0", "\"127.0.0.1:0\" is not host:port"),
            ("consul://127.0.0.1:8500/v1/kv", "with no path"),
            ("consul://127.0.0.1:8500?dc=dc2", "the token and the datacenter come from"),
            ("consuls://127.0.0.1:8500#x", "no query or fragment"),
        ] {
            let error = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: url) }
            #expect(error?.code == .invalidValue)
            // A query or a fragment may hold a token: masked.
            let shown = url.firstIndex { $0 == "?" || $0 == "#" }.map { String(url[...$0]) + "********" } ?? url
            #expect(error?.text == shown)
            #expect(error?.message.contains(problem) == true, "\(url): \(error?.message ?? "")")
        }
        let withToken = #expect(throws: BeaconError.self) {
            try DiscoveryURL(parsing: "consul://anonymous:consul-secret-token@127.0.0.1:8500")
        }
        #expect(withToken?.message.contains("the ACL token comes from DiscoveryService.Configuration.consul") == true)
        #expect(withToken?.text == "consul://********@127.0.0.1:8500")
        #expect(withToken.map { "\($0)" }?.contains("consul-secret-token") == false)
    }

    @Test("unknown schemes are refused by name, listing the known ones")
    func schemes() {
        let unknown = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: "redis://127.0.0.1:6379") }
        #expect(
            unknown?.message.contains("use etcd://, etcds://, zookeeper://, consul://, consuls:// or file://") == true
        )
        let bare = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: "127.0.0.1:8500") }
        #expect(bare?.message.contains("consul://") == true)
    }

    @Test("locations in YAML and expressions: keys, prefixes, Patroni leaders and services")
    func locations() throws {
        #expect(try DiscoveryLocation(parsing: "service:memcached") == .service("memcached"))
        #expect(try DiscoveryLocation(parsing: "service:web-v2.eu") == .service("web-v2.eu"))
        for text in ["service:", "service:a/b"] {
            let error = #expect(throws: BeaconError.self) { try DiscoveryLocation(parsing: text) }
            #expect(error?.code == .invalidKey)
            #expect(error?.message.contains("service:<name>") == true)
        }
        let error = #expect(throws: BeaconError.self) { try DiscoveryLocation(parsing: "memcached") }
        #expect(error?.message.contains("service:<name>") == true)
    }
}
