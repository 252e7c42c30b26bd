// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// One libFuzzer target per parser that reads outside input, in a package of its own so the main build never
// sees the sanitizer flags. scripts/fuzz builds them all (release, `-sanitize=fuzzer,address`) and runs one;
// Documentation/Fuzzing.md lists what each target feeds.
//
// Many entry points are `internal` or `package` (etcd's wire types, Consul's response decoding, the container's
// parameter table), which another package cannot see. scripts/fuzz therefore builds with
// `-Xswiftc -enable-testing`, and the targets that need them use `@testable import`: the fuzzers call the very
// functions the library calls, and no module widens its access for the sake of fuzzing. (Debug builds enable
// testing by default; a release build without the flag fails on those imports.)
let package = Package(
    name: "swift-beacon-fuzzing",
    dependencies: [
        .package(name: "swift-beacon", path: "..")
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        .executableTarget(
            name: "EndpointFuzzer",
            dependencies: ["FuzzSupport", .product(name: "Beacon", package: "swift-beacon")]
        ),
        .executableTarget(
            name: "JSONFileFuzzer",
            dependencies: ["FuzzSupport", .product(name: "Beacon", package: "swift-beacon")]
        ),
        .executableTarget(
            name: "YAMLFileFuzzer",
            dependencies: ["FuzzSupport", .product(name: "Beacon", package: "swift-beacon")]
        ),
        .executableTarget(
            name: "ContainerYAMLFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "BeaconContainer", package: "swift-beacon"),
                .product(name: "BeaconExpression", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "EtcdWireFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconEtcd", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "PostgresParametersFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconPostgres", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "ConsulResponseFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "Beacon", package: "swift-beacon"),
                .product(name: "BeaconConsul", package: "swift-beacon"),
            ]
        ),
        .executableTarget(
            name: "ConfdResourceFuzzer",
            dependencies: ["FuzzSupport", .product(name: "BeaconConfd", package: "swift-beacon")]
        ),
        .executableTarget(
            name: "ExpressionFuzzer",
            dependencies: [
                "FuzzSupport",
                .product(name: "BeaconExpression", package: "swift-beacon"),
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
