// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Beacon
import BeaconEtcd
import BeaconToolSupport
import BeaconZooKeeper
import Logging
import Testing

/// The backend flags the tools share: confd's spelling, the password from the environment, TLS, and the refusals.
@Suite("BackendOptions")
struct BackendOptionsTests {
    @Test("flags take one dash or two; -node repeats; the password comes from BEACON_PASSWORD when not given")
    func parsing() throws {
        let options = try BackendOptions.parse([
            "-backend", "etcdv3", "-node", "http://10.0.0.1:2379", "--node", "http://10.0.0.2:2379",
            "-username", "beacon", "-client-ca-keys", "/etc/ca.pem", "--log-level", "debug",
        ])
        let configuration = try options.makeEtcdConfiguration(environment: ["BEACON_PASSWORD": "from-env"])
        #expect(configuration.endpoints == ["http://10.0.0.1:2379", "http://10.0.0.2:2379"])
        #expect(configuration.credentials?.username == "beacon")
        #expect(configuration.credentials?.password == "from-env")
        #expect(configuration.tls.caBundlePath == "/etc/ca.pem")
        #expect(options.makeLogger(label: "test").logLevel == .debug)

        let explicit = try BackendOptions.parse(["-username", "beacon", "-password", "given"])
        #expect(
            try explicit.makeEtcdConfiguration(environment: ["BEACON_PASSWORD": "from-env"]).credentials?.password
                == "given"
        )
    }

    @Test("no -node means etcd on the local default port, without credentials or client certificate")
    func defaults() throws {
        let configuration = try BackendOptions.parse([]).makeEtcdConfiguration(environment: [:])
        #expect(configuration.endpoints == ["http://127.0.0.1:2379"])
        #expect(configuration.credentials == nil)
        #expect(configuration.tls.certificatePath == nil)
    }

    @Test("-backend zookeeper: host:port nodes, digest credentials from -username and BEACON_PASSWORD")
    func zookeeper() throws {
        let options = try BackendOptions.parse([
            "-backend", "zookeeper", "-node", "10.0.0.1:2181", "--node", "10.0.0.2:2181", "-username", "beacon",
        ])
        #expect(options.isZooKeeper)
        #expect(options.clientLoggerLabel == "beacon.zookeeper")
        let configuration = try options.makeZooKeeperConfiguration(
            sessionTimeout: .seconds(5),
            environment: ["BEACON_PASSWORD": "zk-from-env"]
        )
        #expect(configuration.servers == ["10.0.0.1:2181", "10.0.0.2:2181"])
        #expect(configuration.chroot == nil)
        #expect(configuration.credentials?.username == "beacon")
        #expect(configuration.credentials?.password == "zk-from-env")
        #expect(configuration.sessionTimeout == .seconds(5))
        // The credentials' description masks the password.
        #expect(!"\(configuration.credentials!)".contains("zk-from-env"))

        let explicit = try BackendOptions.parse(["-backend", "zookeeper", "-username", "beacon", "-password", "given"])
        #expect(
            try explicit.makeZooKeeperConfiguration(environment: ["BEACON_PASSWORD": "zk-from-env"]).credentials?
                .password
                == "given"
        )
        let noUser = try BackendOptions.parse(["-backend", "zookeeper"])
        let defaults = try noUser.makeZooKeeperConfiguration(environment: ["BEACON_PASSWORD": "ignored"])
        #expect(defaults.servers == ["127.0.0.1:2181"])
        #expect(defaults.credentials == nil)
        #expect(defaults.sessionTimeout == ZooKeeperClient.Configuration(servers: []).sessionTimeout)
        let missing = try BackendOptions.parse(["-backend", "zookeeper", "-username", "beacon"])
        #expect(throws: ValidationError.self) { try missing.makeZooKeeperConfiguration(environment: [:]) }
    }

    @Test("consul is refused as not in this build; unknown backends, levels and misused flags by name")
    func refusals() throws {
        for (arguments, message) in [
            (["-backend", "consul"], "-backend consul is not in this build yet"),
            (["-backend", "redis"], "-backend redis is unknown: use etcdv3, zookeeper, file or env"),
            (["-log-level", "loud"], "-log-level loud is unknown"),
            (["-client-cert", "/c.pem"], "-client-cert and -client-key go together"),
            (["-backend", "zookeeper", "-node", "http://127.0.0.1:2181"], "is not host:port"),
            (["-backend", "zookeeper", "-node", "127.0.0.1"], "-node 127.0.0.1 is not host:port"),
            (["-backend", "zookeeper", "-client-ca-keys", "/ca.pem"], "the ZooKeeper client has no TLS"),
        ] {
            #expect {
                _ = try BackendOptions.parse(arguments)
            } throws: { error in
                BackendOptions.message(for: error).contains(message)
            }
        }
        let options = try BackendOptions.parse(["-username", "beacon"])
        #expect(throws: ValidationError.self) { try options.makeEtcdConfiguration(environment: [:]) }
    }

    @Test("a ZooKeeper node with user information is refused without showing it")
    func maskedNode() throws {
        #expect {
            _ = try BackendOptions.parse(["-backend", "zookeeper", "-node", "beacon:zk-secret@127.0.0.1:2181"])
        } throws: { error in
            let message = BackendOptions.message(for: error)
            return message.contains("-node ********@127.0.0.1:2181 is not host:port") && !message.contains("zk-secret")
        }
    }

    @Test("file and env can be read but not registered in; zookeeper can, with the session timeout given")
    func registries() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        #expect(throws: ValidationError.self) {
            _ = try BackendOptions.parse(["-backend", "env"]).makeBackend(logger: logger)
        }
        let zookeeper = try BackendOptions.parse(["-backend", "zookeeper", "-node", "127.0.0.1:1"])
            .makeBackend(sessionTimeout: .seconds(3), logger: logger)
        let client = try #require(zookeeper as? ZooKeeperClient)
        #expect(client.configuration.servers == ["127.0.0.1:1"])
        #expect(client.configuration.sessionTimeout == .seconds(3))
        await client.close()
    }
}
