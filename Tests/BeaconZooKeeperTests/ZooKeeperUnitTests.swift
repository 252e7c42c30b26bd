// SPDX-License-Identifier: Apache-2.0

import Beacon
import Logging
import Testing

@testable import BeaconZooKeeper

/// The ZooKeeper client's pieces that need no server: prefixes, libzookeeper's log lines, configuration.
@Suite("ZooKeeper client, without a server")
struct ZooKeeperUnitTests {
    @Test("a prefix names a directory and the start of its children's names")
    func prefixScopes() {
        let directory = PrefixScope("/memcached/servers/")
        #expect(directory.directory == "/memcached/servers" && directory.namePrefix == "" && directory.isValid)
        let siblings = PrefixScope("/memcached/ser")
        #expect(siblings.directory == "/memcached" && siblings.namePrefix == "ser")
        #expect(siblings.includes(child: "servers") && !siblings.includes(child: "other"))
        let root = PrefixScope("")
        #expect(root.directory == "/" && root.includes(child: "app") && !root.includes(child: "zookeeper"))
        #expect(PrefixScope("/").directory == "/")
        #expect(!PrefixScope("relative").isValid)
        #expect(PrefixScope.path(of: "a", in: "/") == "/a")
        #expect(PrefixScope.path(of: "a", in: "/b") == "/b/a")
    }

    @Test("libzookeeper's log lines keep their level, function and message")
    func libraryLogLines() {
        let error = LibraryLog.parse(
            "2026-12-06 07:15:47,603:27010(0x7f4ea37fe6c0):ZOO_ERROR@check_events@3011: Socket 127.0.0.1:21810 "
                + "zk retcode=-4, errno=112(Host is down): failed while receiving a server response"
        )
        #expect(error.level == .error)
        #expect(error.function == "check_events")
        #expect(error.message.hasPrefix("Socket 127.0.0.1:21810 zk retcode=-4"))
        #expect(LibraryLog.parse("t:1(0x2):ZOO_WARN@f@1: w").level == .warning)
        #expect(LibraryLog.parse("t:1(0x2):ZOO_INFO@f@1: i").level == .info)
        #expect(LibraryLog.parse("t:1(0x2):ZOO_DEBUG@f@1: d\n").message == "d")
        #expect(LibraryLog.parse("unexpected").message == "unexpected")
    }

    @Test("a connection string gives servers and a chroot; bad ones are refused with a clear error")
    func connectionStrings() throws {
        let configuration = try ZooKeeperClient.Configuration(connectionString: "10.0.0.1:2181,10.0.0.2:2181/apps/shop")
        #expect(configuration.servers == ["10.0.0.1:2181", "10.0.0.2:2181"])
        #expect(configuration.chroot == "/apps/shop")
        #expect(configuration.connectionString == "10.0.0.1:2181,10.0.0.2:2181/apps/shop")
        #expect(try ZooKeeperClient.Configuration(connectionString: "10.0.0.1:2181/").chroot == nil)
        #expect { try ZooKeeperClient.Configuration(connectionString: "/chroot-only") } throws: { error in
            (error as? ZooKeeperError)?.code == .invalidConfiguration
        }
        #expect { try ZooKeeperClient.Configuration(connectionString: "10.0.0.1:99999") } throws: { error in
            "\(error)".contains("10.0.0.1:99999")
        }
    }

    @Test("digest credentials and errors never show the password; error codes are named")
    func secretsAndNames() {
        let credentials = ZooKeeperClient.DigestCredentials(username: "app", password: "s3cret")
        #expect("\(credentials)" == "app:********")
        let error = ZooKeeperError(.noNode, "gone", operation: "get", path: "/a", target: "h:1", returnCode: -101)
        #expect(error.returnCodeName == "ZNONODE")
        #expect("\(error)" == "ZooKeeper get /a at h:1 failed (noNode, ZNONODE): gone")
        #expect("\(ZooKeeperACL.openUnsafe[0])" == "world:anyone:cdrwa")
        #expect("\(ZooKeeperACL.creatorAllOthersRead[1])" == "world:anyone:r")
    }

    @Test("a client dropped without close() ends its session, which stops libzookeeper's threads")
    func droppedClientClosesItsSession() throws {
        // Nothing listens on port 1: the session is opened (its threads started) but never connects.
        var client: ZooKeeperClient? = try ZooKeeperClient(configuration: .init(connectionString: "127.0.0.1:1"))
        let session = try #require(client?.session)
        #expect(!session.isClosed)
        client = nil
        #expect(session.isClosed)
    }
}
