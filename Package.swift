// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// A service is a library with all its code and a tiny executable that runs it.
func service(_ name: String, executable: String, resources: [Resource] = [], dependencies: [Target.Dependency] = []) -> [Target] {
    [
        .target(
            name: "\(name)App",
            dependencies: ["TierdeskKit", "TierdeskModels"] + dependencies,
            path: "Services/\(name)/App",
            resources: [.copy("openapi.yaml")] + resources,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "\(name)Main",
            dependencies: [
                .target(name: "\(name)App"), "TierdeskKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            path: "Services/\(name)/Main",
            swiftSettings: swiftSettings
        ),
    ]
}

let package = Package(
    name: "tierdesk",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TierdeskModels", targets: ["TierdeskModels"]),
        .executable(name: "intake", targets: ["IntakeMain"]),
        .executable(name: "triage", targets: ["TriageMain"]),
        .executable(name: "tier-queue", targets: ["TierQueueMain"]),
        .executable(name: "vendor-bridge", targets: ["VendorBridgeMain"]),
        .executable(name: "console", targets: ["ConsoleMain"]),
        .executable(name: "tierdesk", targets: ["Admin"]),
        .executable(name: "tierdesk-vendor-sim", targets: ["VendorSim"]),
        .executable(name: "tierdesk-bench", targets: ["TierdeskBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // 4.x: jwt-kit (the console's ID token checks) needs it.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
    ],
    targets: [
        .target(
            name: "TierdeskModels",
            path: "Shared/TierdeskModels",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TierdeskKit",
            dependencies: [
                "TierdeskModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Shared/TierdeskKit",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
    ]
        + service("Intake", executable: "intake", resources: [.copy("Demo")])
        + service("Triage", executable: "triage", resources: [.copy("Demo")])
        // Local accounts: bcrypt password hashes and TOTP codes.
        + service(
            "TierQueue", executable: "tier-queue",
            dependencies: [
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"), .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            ])
        + service("VendorBridge", executable: "vendor-bridge")
        + [
            .target(
                name: "ConsoleApp",
                dependencies: [
                    "TierdeskKit", "TierdeskModels", .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "JWTKit", package: "jwt-kit"),
                ],
                path: "Services/Console/App",
                resources: [.copy("Static")],
                swiftSettings: swiftSettings
            ),
            .executableTarget(
                name: "ConsoleMain",
                dependencies: [
                    "ConsoleApp", "TierdeskKit", .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "Configuration", package: "swift-configuration"),
                ], path: "Services/Console/Main", swiftSettings: swiftSettings),
            .executableTarget(
                name: "Admin",
                dependencies: [
                    "TierdeskKit", "TierdeskModels", "IntakeApp", "TriageApp", "TierQueueApp", "VendorBridgeApp",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Configuration", package: "swift-configuration"),
                ],
                path: "Services/Admin",
                swiftSettings: swiftSettings
            ),
            // A stand-in vendor for the end-to-end tests and the demo: an HTTP server that calls vendor-bridge.
            .executableTarget(
                name: "VendorSim",
                dependencies: [
                    "TierdeskKit", "TierdeskModels", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "Configuration", package: "swift-configuration"),
                ],
                path: "Tests/VendorSim",
                swiftSettings: swiftSettings
            ),
            .executableTarget(
                name: "TierdeskBench",
                dependencies: [
                    "TierdeskKit", "TierdeskModels",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Histogram", package: "hdrhistogram-swift"),
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                ],
                path: "Tools/Bench",
                swiftSettings: swiftSettings
            ),
            .target(
                name: "TierdeskTestSupport",
                dependencies: [
                    "TierdeskKit", "TierdeskModels",
                    .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                ],
                path: "Tests/Support",
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "TierdeskModelsTests", dependencies: ["TierdeskModels", .product(name: "PropertyBased", package: "swift-property-based")],
                path: "Tests/TierdeskModelsTests"),
            .testTarget(
                name: "TierdeskKitTests",
                dependencies: ["TierdeskKit", "TierdeskTestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
                path: "Tests/TierdeskKitTests"),
            .testTarget(name: "IntakeTests", dependencies: ["IntakeApp", "TierdeskTestSupport"], path: "Tests/IntakeTests", resources: [.copy("Fixtures")]),
            .testTarget(name: "TriageTests", dependencies: ["TriageApp", "TierdeskTestSupport"], path: "Tests/TriageTests"),
            .testTarget(name: "TierQueueTests", dependencies: ["TierQueueApp", "TierdeskTestSupport"], path: "Tests/TierQueueTests"),
            .testTarget(name: "VendorBridgeTests", dependencies: ["VendorBridgeApp", "TierdeskTestSupport"], path: "Tests/VendorBridgeTests"),
            .testTarget(
                name: "SecurityTests", dependencies: ["IntakeApp", "TriageApp", "TierQueueApp", "VendorBridgeApp", "TierdeskTestSupport"],
                path: "Tests/SecurityTests"),
            .testTarget(
                name: "EndToEndTests",
                dependencies: [
                    "TierdeskTestSupport", "TierdeskModels", .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdTesting", package: "hummingbird"),
                    // The servers' start-up, run on a recording reader for their --help (HelpTests).
                    "IntakeApp", "TriageApp", "TierQueueApp", "VendorBridgeApp", "ConsoleApp",
                    .product(name: "Configuration", package: "swift-configuration"),
                ],
                path: "Tests/EndToEndTests"),
            .testTarget(
                name: "ConsoleTests",
                dependencies: [
                    "ConsoleApp", "IntakeApp", "TierQueueApp", "TierdeskTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "Configuration", package: "swift-configuration"), .product(name: "JWTKit", package: "jwt-kit"),
                ],
                path: "Tests/ConsoleTests"),
            .testTarget(
                name: "DeployTests", dependencies: ["TierdeskKit", "TierQueueApp", "IntakeApp", .product(name: "Yams", package: "Yams")],
                path: "Tests/DeployTests"),
        ]
)
