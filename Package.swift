// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// `scripts/sanitize thread` builds with BEACON_SANITIZE=thread: the package's locks then tell ThreadSanitizer
// when they are taken and released (see Sources/BeaconLocks/Lock.swift). Every other build leaves them alone.
let threadSanitizerSettings: [SwiftSetting] =
    Context.environment["BEACON_SANITIZE"] == "thread" ? [.define("BEACON_THREAD_SANITIZER")] : []

let package = Package(
    name: "swift-beacon",
    products: [
        .library(name: "Beacon", targets: ["Beacon"]),
        .library(name: "BeaconTesting", targets: ["BeaconTesting"]),
        .library(name: "BeaconCache", targets: ["BeaconCache"]),
        .library(name: "BeaconConfiguration", targets: ["BeaconConfiguration"]),
        .library(name: "BeaconContainer", targets: ["BeaconContainer"]),
        .library(name: "BeaconDiscovery", targets: ["BeaconDiscovery"]),
        .library(name: "BeaconEtcd", targets: ["BeaconEtcd"]),
        .library(name: "BeaconConsul", targets: ["BeaconConsul"]),
        .library(name: "BeaconZooKeeper", targets: ["BeaconZooKeeper"]),
        .library(name: "BeaconMemcached", targets: ["BeaconMemcached"]),
        .library(name: "BeaconPostgres", targets: ["BeaconPostgres"]),
        .library(name: "BeaconExpression", targets: ["BeaconExpression"]),
        .library(name: "BeaconConfd", targets: ["BeaconConfd"]),
        .library(name: "BeaconRegister", targets: ["BeaconRegister"]),
        .executable(name: "beacon-demo", targets: ["BeaconDemo"]),
        .executable(name: "beacon-register", targets: ["BeaconRegisterTool"]),
        .executable(name: "beacon-confd", targets: ["BeaconConfdTool"]),
    ],
    traits: [
        .trait(
            name: "YAML",
            description: "YAML discovery files in FileSource (through Yams). Without it, FileSource reads JSON only."
        ),
        .default(enabledTraits: ["YAML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: Support (package-internal)

        .target(
            // The lock every module uses: `Mutex`, visible to ThreadSanitizer when BEACON_SANITIZE=thread.
            name: "BeaconLocks",
            dependencies: ["CBeaconSupport"],
            swiftSettings: threadSanitizerSettings
        ),
        .target(
            // C that Swift cannot write: ThreadSanitizer's lock annotations, the machine stack's address, thread names.
            name: "CBeaconSupport"
        ),

        // MARK: Core

        .target(
            name: "Beacon",
            dependencies: [
                "BeaconLocks",
                "CBeaconSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams", condition: .when(traits: ["YAML"])),
            ]
        ),
        .target(
            name: "BeaconTesting",
            dependencies: ["BeaconLocks", "Beacon"]
        ),

        // MARK: Cache

        .target(
            name: "BeaconCache",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Configuration: a swift-configuration provider over any discovery source

        .target(
            name: "BeaconConfiguration",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Backends

        .target(
            // Package-internal HTTP over libcurl's multi interface and the JSON of wire formats, used by the etcd and Consul
            // clients and BeaconRegister's HTTP checks.
            name: "BeaconHTTP",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "CBeaconCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BeaconEtcd",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .target(
            name: "BeaconConsul",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "BeaconZooKeeper",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "CBeaconZooKeeper",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Registration: keeps a healthy instance registered (any registry; no backend imported)

        .target(
            name: "BeaconRegister",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Consumers: clients built from discovered data

        .target(
            name: "BeaconPostgres",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconCache",
                "CBeaconLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "BeaconMemcached",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "CBeaconMemcached",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Expressions (a general library: no discovery, no container)

        .target(
            name: "BeaconExpression",
            dependencies: ["BeaconLocks", "CBeaconPCRE2", "CBeaconSupport"]
        ),

        // MARK: Container (general: knows expressions, not discovery; of Beacon it uses the JSON reader only)

        .target(
            name: "BeaconContainer",
            dependencies: [
                "Beacon",
                "BeaconLocks",
                "BeaconExpression",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: Tools' libraries (render files from discovered data; know sources, not clients)

        .target(
            name: "BeaconConfd",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),

        // MARK: Integration (top of the map: the discovery service for the container; nothing imports it)

        .target(
            name: "BeaconDiscovery",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconCache",
                "BeaconConsul",
                "BeaconContainer",
                "BeaconEtcd",
                "BeaconExpression",
                "BeaconMemcached",
                "BeaconPostgres",
                "BeaconZooKeeper",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: C libraries (system library targets; each is imported by exactly one Swift module)

        .systemLibrary(
            name: "CBeaconCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CBeaconLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CBeaconMemcached",
            pkgConfig: "libmemcached",
            providers: [.apt(["libmemcached-dev"])]
        ),
        .systemLibrary(
            name: "CBeaconPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .systemLibrary(
            // libzookeeper-mt-dev ships no pkg-config file: the module map links `zookeeper_mt` itself.
            name: "CBeaconZooKeeper",
            providers: [.apt(["libzookeeper-mt-dev"])]
        ),

        // MARK: Tools

        .target(
            // The backend flags and the logger of the command-line tools (beacon-register, beacon-confd); internal.
            name: "BeaconToolSupport",
            dependencies: [
                "Beacon",
                "BeaconConsul",
                "BeaconEtcd",
                "BeaconZooKeeper",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "BeaconConfdTool",
            dependencies: [
                "Beacon",
                "BeaconConfd",
                "BeaconToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "BeaconRegisterTool",
            dependencies: [
                "Beacon",
                "BeaconRegister",
                "BeaconToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Examples

        .executableTarget(
            name: "BeaconDemo",
            dependencies: [
                "Beacon",
                "BeaconConsul",
                "BeaconEtcd",
                "BeaconZooKeeper",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/beacon-demo",
            exclude: ["README.md"],
            resources: [.copy("beacon-demo.yaml")]
        ),

        // MARK: Tests

        .testTarget(
            name: "BeaconTests",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BeaconCacheTests",
            dependencies: [
                "BeaconLocks",
                "ServiceRunChecks",
                "Beacon",
                "BeaconCache",
                "BeaconTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BeaconConfigurationTests",
            dependencies: [
                "BeaconLocks",
                "ServiceRunChecks",
                "Beacon",
                "BeaconConfiguration",
                "BeaconTesting",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ConfigurationTesting", package: "swift-configuration"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            // The etcd client's wire format and the HTTP layer's request parsing; no server needed.
            name: "BeaconEtcdTests",
            dependencies: ["BeaconEtcd", "BeaconHTTP"]
        ),
        .testTarget(
            // The HTTP layer's own parts: request targets, the monotonic clock, the shared I/O thread (against
            // loopback sockets). Its requests against etcd and nginx are in IntegrationTests.
            name: "BeaconHTTPTests",
            dependencies: ["Beacon", "BeaconHTTP", "LoopbackServer"]
        ),
        .testTarget(
            // The Consul client's key mapping, wire format and blocking-query rules; no agent needed.
            name: "BeaconConsulTests",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconConsul",
                "BeaconHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            // The ZooKeeper client's prefixes, log lines and configuration; no server needed.
            name: "BeaconZooKeeperTests",
            dependencies: [
                "Beacon",
                "BeaconZooKeeper",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BeaconRegisterTests",
            dependencies: [
                "BeaconLocks",
                "LoopbackServer",
                "ServiceRunChecks",
                "Beacon",
                "BeaconRegister",
                "BeaconTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            // The tools' shared backend flags; no server needed.
            name: "BeaconToolSupportTests",
            dependencies: [
                "Beacon",
                "BeaconConsul",
                "BeaconEtcd",
                "BeaconToolSupport",
                "BeaconZooKeeper",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BeaconPostgresTests",
            dependencies: [
                "LoopbackServer",
                "ServiceRunChecks",
                "Beacon",
                "BeaconCache",
                "BeaconLocks",
                "BeaconPostgres",
                "BeaconTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BeaconMemcachedTests",
            dependencies: [
                "BeaconLocks",
                "ServiceRunChecks",
                "Beacon",
                "BeaconCache",
                "BeaconMemcached",
                "BeaconTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Vectors")]
        ),
        .target(
            // A tiny HTTP server and a refusing port on loopback, for the health checks' tests.
            name: "LoopbackServer",
            dependencies: ["BeaconLocks"],
            path: "Tests/LoopbackServer"
        ),
        .executableTarget(
            // The thread census: starts, uses and shuts down every kind of client and pool in a process of its own and
            // checks that the process's thread count is back where it started. Not a product: IntegrationTests'
            // ThreadCensusTests runs it from the build directory (Documentation/Threading.md).
            name: "ThreadCensus",
            dependencies: [
                "Beacon",
                "BeaconCache",
                "BeaconConsul",
                "BeaconEtcd",
                "BeaconHTTP",
                "BeaconMemcached",
                "BeaconPostgres",
                "BeaconRegister",
                "BeaconZooKeeper",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ThreadCensus"
        ),
        .target(
            // Checks that a Service's run() lasts until graceful shutdown or cancellation; shared by the test targets.
            name: "ServiceRunChecks",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ServiceRunChecks"
        ),
        .target(
            // The Symfony conformance corpus's JSON reader and fixtures, shared by the expression and container tests.
            name: "ExpressionCorpusSupport",
            dependencies: ["BeaconLocks", "BeaconExpression"],
            path: "Tests/ExpressionCorpusSupport"
        ),
        .testTarget(
            name: "BeaconContainerTests",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconContainer",
                "BeaconExpression",
                "ExpressionCorpusSupport",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/corpus.json"), .copy("Resources/yaml")]
        ),
        .testTarget(
            name: "BeaconDiscoveryTests",
            dependencies: [
                "BeaconLocks",
                "Beacon",
                "BeaconContainer",
                "BeaconDiscovery",
                "BeaconExpression",
                "BeaconMemcached",
                "BeaconPostgres",
                "BeaconTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BeaconConfdTests",
            dependencies: [
                "BeaconLocks",
                "ServiceRunChecks",
                "Beacon",
                "BeaconConfd",
                "BeaconTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BeaconExpressionTests",
            dependencies: ["BeaconLocks", "BeaconExpression", "ExpressionCorpusSupport"],
            resources: [.copy("Resources/corpus.json")]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "BeaconLocks",
                "LoopbackServer",
                "ServiceRunChecks",
                "Beacon",
                "BeaconCache",
                "BeaconConfd",
                "BeaconConfiguration",
                "BeaconConsul",
                "BeaconContainer",
                "BeaconDiscovery",
                "BeaconEtcd",
                "BeaconExpression",
                "BeaconHTTP",
                "BeaconMemcached",
                "BeaconPostgres",
                "BeaconRegister",
                "BeaconTesting",
                "BeaconZooKeeper",
                "CBeaconCurl",
                "CBeaconLibPQ",
                "CBeaconMemcached",
                "CBeaconZooKeeper",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []

    // https://github.com/apple/swift-evolution/blob/main/proposals/0335-existential-any.md
    settings.append(.enableUpcomingFeature("ExistentialAny"))

    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))

    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0409-access-level-on-imports.md
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))

    // https://docs.swift.org/compiler/documentation/diagnostics/nonisolated-nonsending-by-default/
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))

    target.swiftSettings = settings
}
