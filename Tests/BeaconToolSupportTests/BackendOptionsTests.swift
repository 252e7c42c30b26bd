// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BeaconEtcd
import BeaconToolSupport
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

    @Test("zookeeper and consul are refused as not in this build; unknown backends and levels by name")
    func refusals() throws {
        for (arguments, message) in [
            (["-backend", "zookeeper"], "-backend zookeeper is not in this build yet"),
            (["-backend", "consul"], "-backend consul is not in this build yet"),
            (["-backend", "redis"], "-backend redis is unknown"),
            (["-log-level", "loud"], "-log-level loud is unknown"),
            (["-client-cert", "/c.pem"], "-client-cert and -client-key go together"),
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
}
