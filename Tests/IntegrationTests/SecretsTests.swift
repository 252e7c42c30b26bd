// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconDiscovery
import BeaconEtcd
import BeaconPostgres
import BeaconZooKeeper
import CoreMetrics
import Foundation
import Logging
import Testing

/// Passwords and tokens planted in every client's configuration and input, with the error and log paths run (wrong
/// credentials, unreachable servers, malformed values) next to the normal ones: no secret may appear in a log entry
/// at trace level, an error's description, debug description, reflection or dump, a configuration's or credentials'
/// description, a metric's label or dimensions, a file written to a cache directory, or a tool's output.
///
/// Each test gathers its captures in a ``SecretsCapture`` and ends with
/// ``SecretsCapture/expectNoSecrets(_:expectingLogs:sourceLocation:)``.
@Suite("No secret in logs, errors, descriptions, metrics or files", .requiresServers, .timeLimit(.minutes(3)))
struct SecretsTests {
    /// A secret that the servers do not know (a wrong password, a token in a URL), unique to one run.
    static func plant(_ name: String) -> PlantedSecret {
        PlantedSecret(name: name, value: "planted-\(UUID().uuidString.prefix(13).lowercased())")
    }

    /// The endpoint of an `http://host:port` URL of `scripts/servers`.
    static func endpoint(ofURL url: String) throws -> Endpoint {
        let authority = url.replacing("http://", with: "")
        return try Endpoint(parsing: authority)
    }

    @Test("etcd: a wrong password, the right one and the token it gets, a password in an endpoint URL")
    func etcd() async throws {
        let capture = SecretsCapture()
        let url = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = PlantedSecret(name: "etcd password", value: try TestServers.value("BEACON_ETCD_AUTH_PASSWORD"))
        let wrong = Self.plant("wrong etcd password")
        let inURL = Self.plant("password in an etcd endpoint URL")

        let refused = try EtcdClient(
            configuration: .init(endpoints: [url], credentials: .init(username: user, password: wrong.value)),
            logger: capture.logger
        )
        capture.record(value: refused.configuration, from: "EtcdClient.Configuration (wrong password)")
        capture.record(value: refused.configuration.credentials!, from: "EtcdClient.Credentials (wrong password)")
        #expect(await capture.recordError(from: "EtcdError (wrong password)") { _ = try await refused.get("/k") })
        refused.close()

        // The right password, through a proxy that keeps what the client sends, so that its token is known.
        let proxy = try LoopbackTCPProxy(to: try Self.endpoint(ofURL: url))
        defer { proxy.stop() }
        let etcd = try EtcdClient(
            configuration: .init(
                endpoints: ["http://127.0.0.1:\(proxy.port)"],
                credentials: .init(username: user, password: password.value)
            ),
            logger: capture.logger
        )
        capture.record(value: etcd.configuration, from: "EtcdClient.Configuration (right password)")
        let prefix = TestServers.uniquePrefix("secrets")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await etcd.run() }
            _ = try await etcd.put(prefix + "a", "1")
            _ = try await etcd.get(prefix + "a")
            _ = try await etcd.list(prefix: prefix)
            let ephemeral = try await etcd.putEphemeral(prefix + "e", "2", ttl: TestServers.scaled(.seconds(10)))
            var watch = etcd.watch(prefix: prefix).makeAsyncIterator()
            _ = try await watch.next()
            // The server's tokens expire after 3 idle seconds: the client authenticates again.
            try await Task.sleep(for: .seconds(4))
            _ = try await etcd.get(prefix + "a")
            await ephemeral.cancel()
            _ = try await etcd.delete(prefix: prefix)
            group.cancelAll()
        }
        etcd.close()
        let tokens = proxy.headerValues("Authorization")
        #expect(!tokens.isEmpty, "the client sent no token")
        let tokenSecrets = Set(tokens).map { PlantedSecret(name: "etcd token", value: $0) }

        // A password in an endpoint URL (refused: credentials come from the configuration).
        let plain = try TestServers.value("BEACON_ETCD_ENDPOINT")
        let urls = [
            "http://beacon:\(inURL.value)@127.0.0.1:1", plain.replacing("://", with: "://beacon:\(inURL.value)@"),
            plain + "/?password=\(inURL.value)",
        ]
        for endpoint in urls {
            #expect(
                await capture.recordError(from: "EtcdError (password in the endpoint URL)") {
                    let client = try EtcdClient(configuration: .init(endpoints: [endpoint]), logger: capture.logger)
                    defer { client.close() }
                    _ = try await client.get(prefix + "a")
                }
            )
        }
        capture.expectNoSecrets([password, wrong, inURL] + tokenSecrets)
    }

    @Test("Consul: a wrong ACL token (403), the right one, and a token in an agent URL")
    func consul() async throws {
        let capture = SecretsCapture()
        let agent = try TestServers.value("BEACON_CONSUL_ACL_ENDPOINT")
        let token = PlantedSecret(name: "Consul ACL token", value: try TestServers.value("BEACON_CONSUL_ACL_TOKEN"))
        let wrong = Self.plant("wrong Consul ACL token")
        let inURL = Self.plant("token in a Consul agent URL")
        let key = "beacon-tests/secrets/\(UUID().uuidString)"

        let refused = try ConsulClient(
            configuration: .init(agents: [agent], token: ConsulClient.Token(wrong.value)),
            logger: capture.logger
        )
        capture.record(value: refused.configuration, from: "ConsulClient.Configuration (wrong token)")
        capture.record(value: refused.configuration.token!, from: "ConsulClient.Token (wrong token)")
        #expect(await capture.recordError(from: "ConsulError (wrong token, read)") { _ = try await refused.get(key) })
        #expect(await capture.recordError(from: "ConsulError (wrong token, write)") { try await refused.put(key, "1") })
        refused.close()

        let consul = try ConsulClient(
            configuration: .init(agents: [agent], token: ConsulClient.Token(token.value)),
            logger: capture.logger
        )
        capture.record(value: consul.configuration, from: "ConsulClient.Configuration (right token)")
        try await consul.put(key, "1")
        _ = try await consul.get(key)
        _ = try await consul.list(prefix: key)
        try await consul.delete(key)
        consul.close()

        for url in ["http://\(inURL.value)@127.0.0.1:1", "http://127.0.0.1:1/?token=\(inURL.value)"] {
            await capture.recordError(from: "ConsulError (token in the agent URL)") {
                let client = try ConsulClient(configuration: .init(agents: [url]), logger: capture.logger)
                defer { client.close() }
                _ = try await client.get(key)
            }
        }
        capture.expectNoSecrets([token, wrong, inURL])
    }

    @Test("ZooKeeper: digest credentials, wrong and right, with libzookeeper's own log")
    func zookeeper() async throws {
        let capture = SecretsCapture()
        let servers = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT").split(separator: ",").map(String.init)
        let right = Self.plant("ZooKeeper digest password")
        let wrong = Self.plant("wrong ZooKeeper digest password")
        let path = ZooKeeperClientTests.uniquePath("secrets")

        func client(_ password: String?, acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe) throws -> ZooKeeperClient {
            let configuration = ZooKeeperClient.Configuration(
                servers: servers,
                sessionTimeout: .seconds(4),
                credentials: password.map { .init(username: "beacon", password: $0) },
                acl: acl
            )
            capture.record(value: configuration, from: "ZooKeeperClient.Configuration")
            return try ZooKeeperClient(configuration: configuration, logger: capture.logger)
        }
        try await ZooKeeperClientTests.ensureOpenRoot()
        let owner = try client(right.value, acl: ZooKeeperACL.creatorAll)
        _ = try await owner.put(path, "value")
        let stranger = try client(wrong.value)
        #expect(await capture.recordError(from: "ZooKeeperError (wrong password)") { _ = try await stranger.get(path) })
        #expect(
            await capture.recordError(from: "ZooKeeperError (wrong password, write)") {
                _ = try await stranger.put(path, "other")
            }
        )
        let friend = try client(right.value)
        #expect(try await friend.get(path)?.string == "value")
        _ = try await owner.delete(path)
        for zookeeper in [owner, stranger, friend] { await zookeeper.close() }

        let unreachable = try ZooKeeperClient(
            configuration: .init(
                servers: ["127.0.0.1:1"],
                credentials: .init(username: "beacon", password: right.value),
                requestTimeout: .milliseconds(600)
            ),
            logger: capture.logger
        )
        await capture.recordError(from: "ZooKeeperError (unreachable)") { _ = try await unreachable.get("/k") }
        await unreachable.close()
        capture.expectNoSecrets([right, wrong])
    }

    @Test("DiscoveryService URLs with user information or a token are refused without showing them")
    func discoveryURLs() async throws {
        let capture = SecretsCapture()
        let secret = Self.plant("password in a DiscoveryService URL")
        let etcd = try Self.endpoint(ofURL: try TestServers.value("BEACON_ETCD_ENDPOINT"))
        let zookeeper = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        let consul = try Self.endpoint(ofURL: try TestServers.value("BEACON_CONSUL_ENDPOINT"))
        let urls = [
            "etcd://beacon:\(secret.value)@\(etcd)", "etcds://beacon:\(secret.value)@\(etcd)",
            "etcd://\(etcd)/?password=\(secret.value)", "zookeeper://beacon:\(secret.value)@\(zookeeper)/beacon",
            "consul://\(secret.value)@\(consul)", "consul://\(consul)?token=\(secret.value)",
        ]
        for url in urls {
            #expect(
                await capture.recordError(from: "DiscoveryService(url:) error") {
                    let discovery = try DiscoveryService(url: url, logger: capture.logger)
                    await discovery.close()
                }
            )
        }
        // Each URL is refused before a client exists: nothing logs.
        capture.expectNoSecrets([secret], expectingLogs: false)
    }

    @Test("DiscoveryService over etcd with credentials: database parameters kept off the cache directory")
    func discoveryService() async throws {
        let capture = SecretsCapture()
        let url = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let etcdPassword = PlantedSecret(
            name: "etcd password",
            value: try TestServers.value("BEACON_ETCD_AUTH_PASSWORD")
        )
        let databasePassword = PlantedSecret(
            name: "PostgreSQL password in discovered JSON",
            value: try TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
        )
        let overridePassword = Self.plant("PostgreSQL password in the database overrides")
        let prefix = TestServers.uniquePrefix("secrets-discovery")
        let writer = try EtcdClient(
            configuration: .init(endpoints: [url], credentials: .init(username: user, password: etcdPassword.value))
        )
        defer { writer.close() }
        _ = try await writer.put(prefix + "db/main", try PostgresServers.value(cluster: "B"))
        _ = try await writer.put(prefix + "app/name", "shop")

        let directory = NSTemporaryDirectory() + "beacon-secrets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = DiscoveryService.Configuration()
        configuration.etcd.credentials = .init(username: user, password: etcdPassword.value)
        configuration.excludedFromPersistence = [prefix + "db/"]
        configuration.database.location = .key(prefix + "db/main")
        capture.record(value: configuration, from: "DiscoveryService.Configuration")
        var withOverride = configuration
        withOverride.database.overrides.password = overridePassword.value
        capture.record(value: withOverride, from: "DiscoveryService.Configuration (database overrides)")

        let etcd = try Self.endpoint(ofURL: url)
        try await withMetricsFactory(capture.metrics) {
            let discovery = try DiscoveryService(
                url: "etcd://\(etcd)",
                cacheDirectory: directory,
                configuration: configuration,
                logger: capture.logger
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await discovery.run() }
                #expect(try await discovery.get(prefix + "app/name") == "shop")
                _ = try await discovery.get(prefix + "db/main")
                let pool = try discovery.database()
                let one = try await pool.withConnection { try await $0.query("SELECT 1").count }
                #expect(one == 1)
                await capture.recordError(from: "PostgresError (a query that fails)") {
                    _ = try await pool.withConnection { try await $0.query("SELECT * FROM no_such_table") }
                }
                group.cancelAll()
            }
        }
        _ = try await writer.delete(prefix: prefix)
        // Something was persisted (the application's name), and nothing of the database's parameters.
        let persisted = (FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
            .compactMap { FileManager.default.contents(atPath: directory + "/" + $0) }
            .map { String(decoding: $0, as: UTF8.self) }
        #expect(persisted.contains { $0.contains("shop") }, "nothing was persisted")
        #expect(capture.recordFiles(under: directory) > 0)
        capture.expectNoSecrets([etcdPassword, databasePassword, overridePassword])
    }
}
