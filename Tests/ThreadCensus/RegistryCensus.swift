// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconEtcd
import BeaconZooKeeper

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The etcd and Consul clients, each with a watch and a kept-alive registration while its `run()` goes, clients
/// sharing one I/O thread, and a ZooKeeper client with a node, a watch and a registration (an ephemeral node).
enum RegistryCensus {
    static func run(_ environment: TestEnvironment, baseline: Threads) async throws {
        let instance = ServiceInstance(
            service: "thread-census",
            id: "census-\(getpid())",
            endpoint: Endpoint(host: "127.0.0.1", port: 9)
        )

        var etcdConfiguration = EtcdClient.Configuration(endpoints: [environment.etcd])
        etcdConfiguration.servicePrefix = "/thread-census/services"
        let etcd = try EtcdClient(configuration: etcdConfiguration)
        try await whileRunning(etcd) {
            _ = try await etcd.put("/thread-census/etcd/key", "value")
            let registration = try await etcd.register(instance, ttl: .seconds(5))
            try await Self.firstSnapshot(of: etcd.watch(prefix: "/thread-census/etcd/"))
            print("etcd, with a watch and a registration: \(Threads.current().added(since: baseline))")
            await registration.cancel()
        }
        etcd.close()

        let consul = try ConsulClient(configuration: .init(agents: [environment.consul]))
        try await whileRunning(consul) {
            try await consul.put("thread-census/key", "value")
            let registration = try await consul.register(instance, ttl: .seconds(5))
            try await Self.firstSnapshot(of: consul.watch(prefix: "thread-census/"))
            print("consul, with a watch and a registration: \(Threads.current().added(since: baseline))")
            await registration.cancel()
        }
        consul.close()

        // Two etcd clients and a Consul client on one shared I/O thread: one thread for the three.
        let ioThread = HTTPIOThread()
        var sharedConfiguration = etcdConfiguration
        sharedConfiguration.ioThread = ioThread
        let sharing = try (0..<2).map { _ in try EtcdClient(configuration: sharedConfiguration) }
        let sharingConsul = try ConsulClient(configuration: .init(agents: [environment.consul], ioThread: ioThread))
        for client in sharing { _ = try await client.get("/thread-census/etcd/key") }
        try await Self.firstSnapshot(of: sharingConsul.watch(prefix: "thread-census/"))
        print("two etcd clients and a Consul client sharing an I/O thread: \(Threads.current().added(since: baseline))")
        for client in sharing { client.close() }
        sharingConsul.close()
        ioThread.shutdown()

        var zookeeperConfiguration = try ZooKeeperClient.Configuration(connectionString: environment.zookeeper)
        zookeeperConfiguration.servicePrefix = "/thread-census/services"
        let zookeeper = try ZooKeeperClient(configuration: zookeeperConfiguration)
        try await whileRunning(zookeeper) {
            _ = try await zookeeper.put("/thread-census/zookeeper/key", "value")
            let registration = try await zookeeper.register(instance, ttl: .seconds(5))
            try await Self.firstSnapshot(of: zookeeper.watch(prefix: "/thread-census/zookeeper/"))
            print("zookeeper, with a watch and a registration: \(Threads.current().added(since: baseline))")
            await registration.cancel()
        }
        await zookeeper.close()

        // A client dropped without close() or run(): its session ends, and its threads stop, all the same.
        do {
            let dropped = try ZooKeeperClient(configuration: zookeeperConfiguration)
            _ = try await dropped.get("/thread-census/zookeeper/key")
            print("zookeeper, a client to be dropped: \(Threads.current().added(since: baseline))")
        }
    }

    /// Reads a watch's first snapshot, then ends the watch.
    static func firstSnapshot(of watch: DiscoveryWatch) async throws {
        for try await _ in watch { return }
    }
}
