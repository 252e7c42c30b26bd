// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// Benchmarks live in their own package so benchmark-only code and dependencies never reach users of Beacon.
// Run in release:
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ExpressionBenchmarks
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench CacheBenchmarks
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench EtcdBenchmarks  (needs etcd)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ConsulBenchmarks  (needs a Consul agent or the fake)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench PostgresBenchmarks  (needs postgres)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ZooKeeperBenchmarks  (needs zookeeper)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench RegistrationBenchmarks  (needs etcd)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ContainerBenchmarks
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ConfigurationBenchmarks
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench WatchScaleBenchmarks  (needs etcd and zookeeper)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench PostgresPeerBenchmarks  (needs postgres)
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench EtcdPeerBenchmarks  (needs etcd)
//   Benchmarks/confd-nginx  (beacon-confd: render time, and put in etcd to nginx serving; starts its own servers)
let package = Package(
    name: "swift-beacon-benchmarks",
    dependencies: [
        .package(name: "swift-beacon", path: ".."),
        // The baseline the configuration provider is measured against (InMemoryProvider).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        // The peer BeaconContainer is measured against; a dependency of the benchmarks only.
        .package(url: "https://github.com/Swinject/Swinject.git", from: "2.10.0"),
        // The YAML parser BeaconContainer uses: the container scale curve times its share of a load on its own.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        // The peers BeaconPostgres and BeaconEtcd are measured against; dependencies of the benchmarks only.
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        // Already in the graph through both: the peer side of the etcd benchmark uses ByteBuffer, HTTP methods and
        // statuses, and the JSONDecoder extension, as AsyncHTTPClient's users do.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        .target(name: "BenchmarkSupport"),
        .target(
            // The C floor for etcd and Consul requests: libcurl in plain loops.
            name: "CurlBaseline",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .executableTarget(
            name: "EtcdBenchmarks",
            dependencies: [
                "CurlBaseline",
                .product(name: "BeaconEtcd", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "ConsulBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "CurlBaseline",
                .product(name: "BeaconConsul", package: "swift-beacon"),
            ]
        ),
        .target(
            // The floor for ZooKeeper requests: libzookeeper_mt's synchronous calls in plain C loops and threads.
            name: "ZooKeeperBaseline",
            linkerSettings: [.linkedLibrary("zookeeper_mt")]
        ),
        .executableTarget(
            name: "ZooKeeperBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "ZooKeeperBaseline",
                .product(name: "BeaconZooKeeper", package: "swift-beacon"),
            ]
        ),
        .target(
            // The floor for opening a PostgreSQL connection: blocking PQconnectdbParams in a plain C loop.
            name: "PQBaseline",
            linkerSettings: [.linkedLibrary("pq")]
        ),
        .executableTarget(
            name: "PostgresBenchmarks",
            dependencies: [
                "PQBaseline",
                .product(name: "BeaconCache", package: "swift-beacon"),
                .product(name: "BeaconPostgres", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            // The pool's round trips beside postgres-nio's PostgresClient.
            name: "PostgresPeerBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "BeaconPostgres", package: "swift-beacon"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            // EtcdClient's reads beside the same requests made with AsyncHTTPClient against etcd's gateway.
            name: "EtcdPeerBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "BeaconEtcd", package: "swift-beacon"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "CacheBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconCache", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "ContainerBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "BeaconContainer", package: "swift-beacon"),
                .product(name: "BeaconExpression", package: "swift-beacon"),
                .product(name: "Swinject", package: "Swinject"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "ConfigurationBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconConfiguration", package: "swift-beacon"),
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),
        .executableTarget(
            name: "ConfdBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconConfd", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            // Keep-alive cost of 1, 100 and 1,000 etcd registrations, single and grouped (needs etcd).
            name: "RegistrationBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            // Watch of a large prefix (1k/10k/100k keys): etcd, the file source, Consul (a private fake) and ZooKeeper.
            name: "WatchScaleBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconConsul", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
                .product(name: "BeaconZooKeeper", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "ExpressionBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "BeaconExpression", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            // Fault scenarios against private servers: scripts/faults builds and runs it in a network namespace.
            name: "FaultScenarios",
            dependencies: [
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconCache", package: "swift-beacon"),
                .product(name: "BeaconConsul", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
                .product(name: "BeaconMemcached", package: "swift-beacon"),
                .product(name: "BeaconPostgres", package: "swift-beacon"),
                .product(name: "BeaconZooKeeper", package: "swift-beacon"),
            ]
        ),
        .target(
            // The floor for memcached operations: libmemcached called directly in plain C loops.
            name: "MemcachedBaseline",
            linkerSettings: [.linkedLibrary("memcached")]
        ),
        .executableTarget(
            // A dynamic pool rebuilt with 10, 100 and 1,000 server entries while it serves (needs memcached).
            name: "MemcachedRebuildBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconMemcached", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            // swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench MemcachedBenchmarks
            name: "MemcachedBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "MemcachedBaseline",
                .product(name: "BeaconMemcached", package: "swift-beacon"),
            ]
        ),
    ]
)

for target in package.targets where [.executable, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))
    target.swiftSettings = settings
}
