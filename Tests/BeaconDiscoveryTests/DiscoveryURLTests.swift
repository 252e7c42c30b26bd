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
            #expect(error?.text == url)
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

    @Test("unknown and planned schemes are refused by name")
    func schemes() {
        let consul = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: "consul://127.0.0.1:8500") }
        #expect(consul?.message == "this build of Beacon has no consul client yet")
        let unknown = #expect(throws: BeaconError.self) { try DiscoveryURL(parsing: "redis://127.0.0.1:6379") }
        #expect(unknown?.message.contains("use etcd://, etcds://, zookeeper:// or file://") == true)
    }
}
