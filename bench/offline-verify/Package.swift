// swift-tools-version:6.0
import PackageDescription

// The offline library's verify (SessionTokenVerifier) against raw OpenSSL and vapor/jwt-kit, on one token.
// A package of its own so that jwt-kit (and swift-crypto's BoringSSL under it) never enters the sidecar's build:
// `scripts/bench-offline.sh` builds and runs it.
let package = Package(
  name: "OfflineVerifyBenchmark",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "SessionSidecar", path: "../.."),
    .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
  ],
  targets: [
    // Raw OpenSSL, in C: the least a verify of this token must do (SHA-256 and one RSA-2048 check).
    .target(name: "CRawVerify", linkerSettings: [.linkedLibrary("crypto")]),
    .executableTarget(
      name: "OfflineVerifyBenchmark",
      dependencies: [
        "CRawVerify",
        .product(name: "SessionTokenVerifier", package: "SessionSidecar"),
        .product(name: "JWTKit", package: "jwt-kit"),
      ]
    ),
  ]
)
