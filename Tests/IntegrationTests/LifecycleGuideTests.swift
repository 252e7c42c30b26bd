// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconMemcached
import BeaconPostgres
import Foundation
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

@testable import BeaconEtcd

/// Documentation/Lifecycle.md's ServiceGroup against the servers of `scripts/servers`, and the same group stopped by a
/// signal, counting what it leaves behind in etcd, PostgreSQL and memcached.
@Suite("Documentation/Lifecycle.md: Beacon's parts in a ServiceGroup", .requiresServers, .timeLimit(.minutes(2)))
struct LifecycleGuideTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The parts of the guide's group, with the test servers' addresses under a prefix of their own.
    struct Parts {
        let etcd: EtcdClient
        let discovery: CachingSource<EtcdClient>
        let sessions: DynamicMemcachedPool
        let database: PostgresConnectionPool
        let instance: ServiceInstance

        /// Publishes the servers under `prefix` and builds the parts as the guide does.
        init(prefix: String, memcached: [Endpoint], applicationName: String, logger: Logger) async throws {
            var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
            configuration.servicePrefix = "\(prefix)services"
            let etcd = try EtcdClient(configuration: configuration, logger: logger)
            for (index, server) in memcached.enumerated() {
                try await etcd.put("\(prefix)services/memcached/\(index)", server.description)
            }
            let database = try PostgresServers.value(cluster: "B")
                .replacingOccurrences(of: "\"beacon-tests\"", with: "\"\(applicationName)\"")
            try await etcd.put("\(prefix)db/main", database)

            // As in the guide, with the prefix.
            let discovery = CachingSource(
                etcd,
                configuration: .init(ttl: .seconds(5), refreshAhead: 0.8),
                logger: logger
            )
            let sessions = DynamicMemcachedPool(
                source: discovery,
                servers: .prefix("\(prefix)services/memcached/"),
                logger: logger
            )
            self.database = PostgresConnectionPool(
                factory: PostgresConnectionFactory(
                    source: discovery,
                    location: .key("\(prefix)db/main"),
                    logger: logger
                ),
                logger: logger
            )
            self.instance = ServiceInstance(
                service: "web",
                id: "web-1",
                endpoint: Endpoint(host: "10.0.0.7", port: 8080)
            )
            _ = try await etcd.register(self.instance, ttl: TestServers.scaled(.seconds(10)))
            self.etcd = etcd
            self.discovery = discovery
            self.sessions = sessions
        }

        var services: [any Service] { [self.etcd, self.discovery, self.sessions, self.database] }

        /// Uses every part once the group runs: memcached on every server, two PostgreSQL connections at once.
        func use(keys: Int = 20) async throws {
            while self.sessions.generation < 1 { await self.sessions.waitForUpdate(after: self.sessions.updateCount) }
            for index in 0..<keys {
                try await self.sessions.set("lifecycle-\(index)", value: Array("\(index)".utf8))
                #expect(try await self.sessions.get("lifecycle-\(index)") == Array("\(index)".utf8))
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for value in 1...2 {
                    group.addTask {
                        try await self.database.withConnection { connection in
                            _ = try await connection.query("SELECT pg_sleep(0.2)")
                            let rows = try await connection.query("SELECT $1::int8", [.integer(value)])
                            return try rows[0].decode(Int.self, column: 0)
                        }
                    }
                }
                var sum = 0
                for try await value in group { sum += value }
                #expect(sum == 3)
            }
        }
    }

    func observer(prefix: String) throws -> EtcdClient {
        var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
        configuration.servicePrefix = "\(prefix)services"
        return try EtcdClient(configuration: configuration, logger: self.logger)
    }

    @Test("the guide's group runs, and its graceful shutdown withdraws the registration and closes the parts")
    func guideExample() async throws {
        let prefix = TestServers.uniquePrefix("lifecycle-guide")
        let memcached = try TestServers.value("BEACON_MEMCACHED_ENDPOINTS").split(separator: ",").map {
            try Endpoint(parsing: String($0))
        }
        let parts = try await Parts(
            prefix: prefix,
            memcached: memcached,
            applicationName: "beacon-lifecycle-guide",
            logger: self.logger
        )
        let observer = try self.observer(prefix: prefix)
        defer { observer.close() }

        let group = ServiceGroup(
            services: parts.services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: self.logger
        )
        defer {
            // The group leaves the signals it trapped ignored; give them back their default action.
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await parts.use()
            #expect(try await observer.instances(of: "web") == [parts.instance])
            await group.triggerGracefulShutdown()  // as SIGTERM does
            try await tasks.waitForAll()
        }

        #expect(try await observer.instances(of: "web").isEmpty)
        #expect(parts.sessions.currentPool == nil)
        let poolError = await #expect(throws: PostgresError.self) { try await parts.database.withConnection { _ in } }
        #expect(poolError?.code == .poolClosed)
        let etcdError = await #expect(throws: EtcdError.self) { try await parts.etcd.get("\(prefix)db/main") }
        #expect(etcdError?.code == .closed)
        try await observer.delete(prefix: prefix)
    }

    @Test("a group stopped by a signal leaves no lease, no registration, no PostgreSQL or memcached connection")
    func nothingLeftBehind() async throws {
        let prefix = TestServers.uniquePrefix("lifecycle-signal")
        // Private memcached servers, so that other tests' connections do not change the counts.
        let servers = [try MemcachedPrivateServer(port: 21296), try MemcachedPrivateServer(port: 21297)]
        let applicationName = "beacon-lifecycle-\(UUID().uuidString.prefix(8))"
        let observer = try self.observer(prefix: prefix)
        defer { observer.close() }
        let probe = try await PostgresProbe()
        defer { probe.close() }

        let memcachedBefore = try await servers.asyncMap {
            try await MemcachedStats.settledConnections(at: $0.endpoint)
        }
        #expect(try await probe.connections(applicationName: applicationName) == 0)

        let parts = try await Parts(
            prefix: prefix,
            memcached: servers.map(\.endpoint),
            applicationName: applicationName,
            logger: self.logger
        )
        let lease = try #require(try await observer.leaseID(ofKey: parts.instance.key(prefix: "\(prefix)services")))
        let footprint = ServerFootprint(
            observer: observer,
            service: "web",
            lease: lease,
            probe: probe,
            applicationName: applicationName,
            memcached: servers.map(\.endpoint),
            memcachedBefore: memcachedBefore
        )
        let group = ServiceGroup(services: parts.services, gracefulShutdownSignals: [.sigusr2], logger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await parts.use()
            // While it runs: the registration, PostgreSQL connections and memcached connections exist.
            try await footprint.expectPresent(instance: parts.instance)
            // The group trapped SIGUSR2 before it started the services, which are running: the signal is its.
            kill(getpid(), SIGUSR2)
            try await tasks.waitForAll()
        }

        try await footprint.expectNothingLeft()
        try await observer.delete(prefix: prefix)
    }
}

/// What a group of Beacon's parts holds on the servers while it runs: a registration on a lease, PostgreSQL
/// sessions with an `application_name` of their own, connections to private memcached servers.
struct ServerFootprint {
    let observer: EtcdClient
    let service: String
    let lease: Int64
    let probe: PostgresProbe
    let applicationName: String
    let memcached: [Endpoint]
    /// Each memcached server's connections before the group started.
    let memcachedBefore: [Int]

    /// Checks that the registration, its lease, PostgreSQL sessions and memcached connections exist.
    func expectPresent(instance: ServiceInstance) async throws {
        #expect(try await self.observer.instances(of: self.service) == [instance])
        #expect(try await self.observer.leaseIDs().contains(self.lease))
        #expect(try await self.probe.connections(applicationName: self.applicationName) >= 1)
        for (server, before) in zip(self.memcached, self.memcachedBefore) {
            #expect(try MemcachedStats.connections(at: server) > before)
        }
    }

    /// Checks that nothing is left: no registration, no lease, no PostgreSQL session, memcached connections back to
    /// where they were. Servers notice a closed connection a moment after the client closed it: this waits for it.
    func expectNothingLeft() async throws {
        #expect(try await self.observer.instances(of: self.service).isEmpty)
        #expect(try await !self.observer.leaseIDs().contains(self.lease))
        try await EtcdLifecycleTests.wait {
            try await self.probe.connections(applicationName: self.applicationName) == 0
        }
        for (server, before) in zip(self.memcached, self.memcachedBefore) {
            try await EtcdLifecycleTests.wait { try MemcachedStats.connections(at: server) == before }
        }
    }
}

/// A PostgreSQL connection of its own (`application_name` `beacon-probe`) that counts other sessions.
struct PostgresProbe {
    let connection: PostgresConnection

    init() async throws {
        let value = try PostgresServers.value(cluster: "B")
            .replacingOccurrences(of: "\"beacon-tests\"", with: "\"beacon-probe\"")
        let parameters = try PostgresParameters(parsing: KeyValue(key: "/db/probe", string: value))
        self.connection = try await PostgresConnection.connect(to: parameters, logger: PostgresServers.quietLogger)
    }

    /// The number of sessions on the server with this `application_name`.
    func connections(applicationName: String) async throws -> Int {
        let rows = try await self.connection.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            [.text(applicationName)]
        )
        return try rows[0].decode(Int.self, column: 0)
    }

    func close() { self.connection.close() }
}

/// memcached's `stats`, read over a connection of its own.
enum MemcachedStats {
    /// `curr_connections`: open connections, the listening socket and this probe's own connection included.
    static func connections(at endpoint: Endpoint) throws -> Int {
        try self.stat("curr_connections", at: endpoint)
    }

    /// `curr_connections` once two readings a little apart agree (connections closed just before may still count).
    static func settledConnections(at endpoint: Endpoint) async throws -> Int {
        var previous = try self.connections(at: endpoint)
        while true {
            try await Task.sleep(for: .milliseconds(200))
            let current = try self.connections(at: endpoint)
            if current == previous { return current }
            previous = current
        }
    }

    struct Failure: Error {
        var message: String
    }

    /// One value of `stats`, on a fresh TCP connection.
    static func stat(_ name: String, at endpoint: Endpoint) throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(message: "socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
        guard inet_pton(AF_INET, endpoint.host, &address.sin_addr) == 1 else {
            throw Failure(message: "not an IPv4 address: \(endpoint.host)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(message: "connect to \(endpoint) failed: errno \(errno)") }
        let request = Array("stats\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else {
            throw Failure(message: "send failed")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !answer.ends(with: Array("END\r\n".utf8)) {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { throw Failure(message: "the stats answer ended early") }
            answer += buffer[0..<count]
        }
        for line in String(decoding: answer, as: UTF8.self).split(separator: "\r\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, fields[0] == "STAT", fields[1] == name, let value = Int(fields[2]) { return value }
        }
        throw Failure(message: "no \(name) in the stats of \(endpoint)")
    }
}

extension Array {
    /// Maps the elements in order with an async transform.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

extension Array where Element: Equatable {
    /// Whether the array ends with `suffix`.
    func ends(with suffix: [Element]) -> Bool {
        self.count >= suffix.count && Array(self[(self.count - suffix.count)...]) == suffix
    }
}
