import SessionCore
import Testing

@Suite("sidecar.grpc.*")
struct GRPCConfigTests {
  private func problems(_ overrides: [String: String]) -> [String] {
    do {
      _ = try ConfigLoader().load(file: requiredConfigKeys.merging(overrides) { $1 }, environment: [:])
      return []
    } catch {
      return error.problems
    }
  }

  @Test func offByDefault() throws {
    let config = try testConfig()
    #expect(config.sidecar.grpcSocketPath == nil && config.sidecar.grpcAddress == nil)
  }

  @Test func bothEndpointsAreRead() throws {
    let config = try testConfig([
      "sidecar.grpc.socketPath": "/run/session-sidecar/grpc.sock", "sidecar.grpc.address": "127.0.0.1:50051",
    ])
    #expect(config.sidecar.grpcSocketPath == "/run/session-sidecar/grpc.sock")
    #expect(config.sidecar.grpcAddress == "127.0.0.1:50051")
  }

  @Test(arguments: ["0.0.0.0:50051", "10.0.0.1:50051", "example.com:50051", "127.0.0.1", "127.0.0.08:50051"])
  func addressMustBeNumericLoopback(_ address: String) {
    #expect(problems(["sidecar.grpc.address": address]).contains { $0.hasPrefix("sidecar.grpc.address:") })
  }

  @Test func addressMustDifferFromTheHTTPListeners() {
    let found = problems(["sidecar.grpc.address": "127.0.0.1:8081", "sidecar.http.address": "localhost:8081"])
    #expect(found == ["sidecar.grpc.address: must differ from sidecar.http.address"])
  }

  /// A TCP peer has no uid or gid: the address would bypass the allow-lists.
  @Test func addressIsRefusedWithAllowLists() {
    let found = problems(["sidecar.grpc.address": "127.0.0.1:50051", "sidecar.allowedUIDs": "1000"])
    #expect(found.count == 1 && found[0].contains("allowedUIDs"))
    #expect(problems(["sidecar.grpc.socketPath": "/run/s/grpc.sock", "sidecar.allowedGIDs": "1000"]).isEmpty)
  }

  @Test(arguments: [
    "/run/session-sidecar/sidecar.sock",  // the main socket's default path
    "/run/ro.sock",  // the read-only socket below
    "/" + String(repeating: "p", count: 90),
  ])
  func socketPathMustBeShortAndItsOwn(_ path: String) {
    let found = problems(["sidecar.grpc.socketPath": path, "sidecar.readOnlySocketPath": "/run/ro.sock"])
    #expect(found.contains { $0.hasPrefix("sidecar.grpc.socketPath:") })
  }
}
