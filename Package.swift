// swift-tools-version:6.0
import PackageDescription

// One target per concern, arrows pointing down only (docs/architecture.md draws the graph and says why each
// arrow exists):
//   session-sidecar → SidecarServer → SessionCore → SessionToken → OpenSSLCrypto → COpenSSL
//                          │               └→ SessionStorage (+ NIOPosix thread pools) ← MySQLStore → CMariaDB
//                          └→ SessionSidecarWire (generated types + framing; SwiftProtobuf, NIOCore)
//   session-sidecar → SidecarGRPC → SidecarServer   (the contract, Envoy ext_authz and health over grpc-swift-2)
//   SidecarClient → SessionSidecarWire   (a client links neither libssl nor libmariadb)
let nio: (String) -> Target.Dependency = { .product(name: $0, package: "swift-nio") }
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let protobuf: Target.Dependency = .product(name: "SwiftProtobuf", package: "swift-protobuf")
let grpc: [Target.Dependency] = [
  .product(name: "GRPCCore", package: "grpc-swift-2"),
  .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
  .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
]

let package = Package(
  name: "SessionSidecar",
  // Synchronization.Mutex needs macOS 15.
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "session-sidecar", targets: ["SessionSidecarCLI"]),
    // Offline verification of access tokens against a published JWKS: no database, no sidecar call.
    .library(name: "SessionTokenVerifier", targets: ["SessionToken"]),
    // A Swift client of the socket: typed async calls on the wire module alone.
    .library(name: "SessionSidecarClient", targets: ["SidecarClient"]),
    // The wire contract alone: generated types, framing, call names.
    .library(name: "SessionSidecarWire", targets: ["SessionSidecarWire"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
  ],
  targets: [
    // C, each library behind exactly one Swift target.
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),

    .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL"]),
    .target(name: "SessionToken", dependencies: ["OpenSSLCrypto"]),
    .target(name: "SessionStorage", dependencies: [nio("NIOPosix")]),
    .target(name: "MySQLStore", dependencies: ["CMariaDB", "SessionStorage", log]),
    .target(name: "CronSchedule"),
    .target(
      name: "SessionCore", dependencies: ["SessionToken", "SessionStorage", "CronSchedule", "OpenSSLCrypto", log]),
    .target(name: "SessionSidecarWire", dependencies: [protobuf, nio("NIOCore")]),
    .target(
      name: "SidecarServer",
      dependencies: [
        "SessionSidecarWire", "SessionCore", "SessionStorage", nio("NIOCore"), nio("NIOPosix"), nio("NIOHTTP1"),
        .product(name: "NIOExtras", package: "swift-nio-extras"), log,
        .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ]
    ),
    // The gRPC listener: a transport over SidecarServer's dispatcher, so the length-prefixed socket is untouched.
    .target(
      name: "SidecarGRPC",
      dependencies: [
        "SidecarServer", "SessionSidecarWire", "SessionCore", protobuf, nio("NIOCore"), log,
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ] + grpc
    ),
    .target(name: "SidecarClient", dependencies: ["SessionSidecarWire", nio("NIOCore"), nio("NIOPosix")]),
    .executableTarget(
      name: "SessionSidecarBenchmark",
      dependencies: [
        "SidecarServer", "SidecarGRPC", "SidecarClient", "SessionSidecarWire", "SessionCore", "SessionToken",
        "OpenSSLCrypto", "SessionStorage", log,
      ] + grpc
    ),
    .executableTarget(
      name: "SessionSidecarCLI",
      dependencies: [
        "SidecarServer", "SidecarGRPC", "SessionCore", "SessionStorage", "MySQLStore", "SessionSidecarWire",
        "SidecarClient", "CronSchedule", "SessionToken", protobuf,
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"), log,
      ]
    ),
    // A program built against the client product alone; scripts/check-client-links.sh shows with ldd that it
    // links neither libssl nor libmariadb, and the tests drive every call with it.
    .executableTarget(
      name: "SidecarClientExample", dependencies: ["SidecarClient"], path: "Examples/SidecarClientExample"),

    // Test-only helpers shared by several test targets.
    .target(name: "TestSupport", dependencies: ["MySQLStore", "SessionStorage", log], path: "Tests/TestSupport"),
    .testTarget(name: "OpenSSLCryptoTests", dependencies: ["OpenSSLCrypto", "TestSupport"]),
    .testTarget(name: "SessionTokenTests", dependencies: ["SessionToken", "OpenSSLCrypto", "TestSupport"]),
    .testTarget(name: "CronScheduleTests", dependencies: ["CronSchedule"]),
    .testTarget(
      name: "SessionSidecarWireTests",
      dependencies: [
        "SessionSidecarWire", nio("NIOCore"), nio("NIOEmbedded"), .product(name: "NIOTestUtils", package: "swift-nio"),
      ]),
    .testTarget(name: "SessionStorageTests", dependencies: ["SessionStorage", "MySQLStore", "TestSupport"]),
    .testTarget(name: "MySQLStoreTests", dependencies: ["MySQLStore", "SessionStorage", "TestSupport"]),
    .testTarget(
      name: "SessionCoreTests",
      dependencies: ["SessionCore", "SessionStorage", "SessionToken", "OpenSSLCrypto", "CronSchedule", "TestSupport"]
    ),
    .testTarget(
      name: "SidecarServerTests",
      dependencies: [
        "SidecarServer", "SessionSidecarWire", "SessionCore", "MySQLStore", "SidecarClient", "SessionStorage",
        "CronSchedule", "TestSupport", "OpenSSLCrypto", "SessionToken", nio("NIOCore"), nio("NIOPosix"), protobuf,
        log, .product(name: "NIOEmbedded", package: "swift-nio"),
      ]
    ),
    .testTarget(
      name: "SidecarGRPCTests",
      dependencies: [
        "SidecarGRPC", "SidecarServer", "SessionSidecarWire", "SessionCore", "SessionStorage", "SessionToken",
        protobuf, nio("NIOCore"), log,
      ] + grpc
    ),
  ],
  swiftLanguageModes: [.v6]
)
