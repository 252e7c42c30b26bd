// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Beacon
import BeaconConsul
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

    @Test("unknown backends, levels and misused flags are refused by name")
    func refusals() throws {
        for (arguments, message) in [
            (["-backend", "redis"], "-backend redis is unknown: use etcdv3, zookeeper, consul, file or env"),
            (["-token", "t"], "-token and -datacenter are for -backend consul"),
            (["-backend", "zookeeper", "-datacenter", "dc2"], "-token and -datacenter are for -backend consul"),
            (["-backend", "consul", "-username", "beacon"], "it authenticates with an ACL token"),
            (["-backend", "consul", "-node", "127.0.0.1:8500"], "-node 127.0.0.1:8500 is not an agent's URL"),
            (["-backend", "consul", "-node", "ftp://127.0.0.1:8500"], "is not an agent's URL"),
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

extension BackendOptionsTests {
    @Test("-backend consul: agents' URLs (the local agent by default), the token from -token or BEACON_CONSUL_TOKEN")
    func consul() throws {
        let options = try BackendOptions.parse([
            "-backend", "consul", "-node", "http://10.0.0.1:8500", "--node", "https://10.0.0.2:8501",
            "-datacenter", "dc2", "-client-ca-keys", "/etc/consul-ca.pem",
        ])
        #expect(options.isConsul)
        #expect(options.clientLoggerLabel == "beacon.consul")
        let configuration = options.makeConsulConfiguration(environment: ["BEACON_CONSUL_TOKEN": "from-env"])
        #expect(configuration.agents == ["http://10.0.0.1:8500", "https://10.0.0.2:8501"])
        #expect(configuration.token?.secret == "from-env")
        #expect(configuration.datacenter == "dc2")
        #expect(configuration.tls.caBundlePath == "/etc/consul-ca.pem")
        // The token's description masks it.
        #expect("\(configuration.token!)" == "********")

        let explicit = try BackendOptions.parse(["-backend", "consul", "-token", "given"])
        #expect(
            explicit.makeConsulConfiguration(environment: ["BEACON_CONSUL_TOKEN": "from-env"]).token?.secret == "given"
        )
        let defaults = try BackendOptions.parse(["-backend", "consul"]).makeConsulConfiguration(environment: [:])
        #expect(defaults.agents == ["http://127.0.0.1:8500"])
        #expect(defaults.token == nil && defaults.datacenter == nil)
        let empty = try BackendOptions.parse(["-backend", "consul"])
        #expect(empty.makeConsulConfiguration(environment: ["BEACON_CONSUL_TOKEN": ""]).token == nil)
    }

    @Test("a Consul node with user information is refused without showing it")
    func maskedConsulNode() throws {
        #expect {
            _ = try BackendOptions.parse([
                "-backend", "consul", "-node", "http://anonymous:consul-secret@127.0.0.1:8500",
            ])
        } throws: { error in
            let message = BackendOptions.message(for: error)
            return message.contains("-node http://********@127.0.0.1:8500 is not an agent's URL")
                && !message.contains("consul-secret")
        }
    }

    @Test("consul can be registered in and read: the client is a registry, made from the flags")
    func consulBackend() throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let backend = try BackendOptions.parse(["-backend", "consul", "-node", "http://127.0.0.1:1"])
            .makeBackend(logger: logger)
        let client = try #require(backend as? ConsulClient)
        #expect(client.configuration.agents == ["http://127.0.0.1:1"])
        client.close()
        let (source, service) = try BackendOptions.parse(["-backend", "consul", "-node", "http://127.0.0.1:1"])
            .makeSource(file: nil, logger: logger)
        #expect(source is ConsulClient && service is ConsulClient)
        (source as? ConsulClient)?.close()
    }
}
