// swift-tools-version:6.0
import PackageDescription

// One target per concern, arrows pointing down only (see docs/architecture.md):
//   session-sidecar → SidecarServer → SidecarProtocol, SessionCore → SessionToken → OpenSSLCrypto → COpenSSL
//                                                        SessionCore → SessionStorage ← MySQLStore → CMariaDB
let package = Package(
  name: "SessionSidecar",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "session-sidecar", targets: ["SessionSidecarCLI"]),
    // Offline verification of access tokens against a published JWKS: no database, no sidecar call.
    .library(name: "SessionTokenVerifier", targets: ["SessionToken"]),
    // A Swift client of the socket, with the generated wire types.
    .library(name: "SessionSidecarClient", targets: ["SidecarClient", "SidecarProtocol"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
  ],
  targets: [
    // C, each library behind exactly one Swift target.
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),

    .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL"]),
    .target(name: "SessionToken", dependencies: ["OpenSSLCrypto"]),
    .target(name: "SessionStorage"),
    .target(
      name: "MySQLStore",
      dependencies: ["CMariaDB", "SessionStorage", .product(name: "Logging", package: "swift-log")]
    ),
    .target(name: "CronSchedule"),
    .target(
      name: "SessionCore",
      dependencies: [
        "SessionToken", "SessionStorage", "CronSchedule", "OpenSSLCrypto",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .target(
      name: "SidecarProtocol",
      dependencies: ["SessionCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    .target(
      name: "SidecarServer",
      dependencies: [
        "SidecarProtocol", "SessionCore",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ]
    ),
    .target(
      name: "SidecarClient",
      dependencies: [
        "SidecarProtocol",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .executableTarget(
      name: "SessionSidecarBenchmark",
      dependencies: [
        "SidecarServer", "SidecarClient", "SidecarProtocol", "SessionCore", "SessionToken", "OpenSSLCrypto",
        "SessionStorage", "MySQLStore",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "SessionSidecarCLI",
      dependencies: [
        "SidecarServer", "SessionCore", "MySQLStore", "SidecarProtocol", "SidecarClient",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),

    // Test-only helpers shared by several test targets.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "OpenSSLCryptoTests", dependencies: ["OpenSSLCrypto", "TestSupport"]),
    .testTarget(name: "SessionTokenTests", dependencies: ["SessionToken", "OpenSSLCrypto", "TestSupport"]),
    .testTarget(name: "CronScheduleTests", dependencies: ["CronSchedule"]),
    .testTarget(name: "MySQLStoreTests", dependencies: ["MySQLStore", "SessionStorage"]),
    .testTarget(
      name: "SessionCoreTests",
      dependencies: ["SessionCore", "SessionStorage", "SessionToken", "OpenSSLCrypto", "CronSchedule"]
    ),
    .testTarget(
      name: "SidecarServerTests",
      dependencies: [
        "SidecarServer", "SidecarProtocol", "SessionCore", "MySQLStore", "SidecarClient", "SessionStorage",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)
