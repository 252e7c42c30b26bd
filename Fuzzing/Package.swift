// swift-tools-version: 6.2
// SPDX-License-Identifier: Apache-2.0

import PackageDescription

// A libFuzzer target for BeaconExpression's parser, in its own package so the main build never sees the
// sanitizer flags. Build and run it with scripts/fuzz-expression.
let package = Package(
    name: "swift-beacon-fuzzing",
    dependencies: [
        .package(name: "swift-beacon", path: "..")
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "ExpressionFuzzer",
            dependencies: [
                "CFuzzerDriver",
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
