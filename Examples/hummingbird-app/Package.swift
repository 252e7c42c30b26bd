// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// The story's server app, in a package of its own so that users of Beacon never resolve Hummingbird.
//   swift build --package-path Examples/hummingbird-app
//   Examples/hummingbird-app/.build/debug/beacon-app --help
//   Examples/hummingbird-app/.build/debug/beacon-load --help
let package = Package(
    name: "beacon-hummingbird-app",
    products: [
        .executable(name: "beacon-app", targets: ["BeaconApp"]),
        .executable(name: "beacon-load", targets: ["BeaconLoad"]),
    ],
    dependencies: [
        .package(name: "swift-beacon", path: "../.."),
        // No default traits: the app needs neither swift-configuration nor full Foundation from Hummingbird.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            // Flags and environment, and the text both tools print.
            name: "ExampleSupport"
        ),
        .executableTarget(
            name: "BeaconApp",
            dependencies: [
                "ExampleSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconCache", package: "swift-beacon"),
                .product(name: "BeaconContainer", package: "swift-beacon"),
                .product(name: "BeaconDiscovery", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
                .product(name: "BeaconExpression", package: "swift-beacon"),
                .product(name: "BeaconMemcached", package: "swift-beacon"),
                .product(name: "BeaconPostgres", package: "swift-beacon"),
                .product(name: "BeaconRegister", package: "swift-beacon"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "BeaconLoad",
            dependencies: [
                "ExampleSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
