import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import SessionCore
import SessionStorage
import SidecarGRPC
import SidecarServer

/// A sidecar running in this process on the in-memory store, with its gRPC listener on a Unix socket of its own.
struct GRPCTestSidecar: Sendable {
  let sidecar: Sidecar
  let grpcSocketPath: String
  let clock: TestClock
  let listeners: [GRPCListener]
}

typealias TestGRPCClient = GRPCClient<HTTP2ClientTransport.Posix>

/// Starts a sidecar whose configuration `adjust` may change, connects a gRPC client to its gRPC socket, runs
/// `body`, then stops the sidecar as SIGTERM does.
func withGRPCSidecar(
  clock: TestClock = TestClock(nowMs: SystemClock().nowMs()),
  adjust: (inout SidecarConfig) -> Void = { _ in },
  _ body: (GRPCTestSidecar, TestGRPCClient) async throws -> Void
) async throws {
  let name = "/tmp/sidecar-grpc-test-\(UInt32.random(in: 0...UInt32.max))"
  var config = SidecarConfig()
  config.mysql.user = "in-memory"
  config.mysql.database = "in-memory"
  config.refreshToken.renewTokenPath = "/auth/session/refresh"
  config.cookie.domain = "example.test"
  config.sidecar.socketPath = name + ".sock"
  config.sidecar.grpcSocketPath = name + ".grpc"
  adjust(&config)
  let store = InMemorySessionStore()
  let database = try await SessionDatabase.open(requestThreads: 4) { store }
  var logger = Logger(label: "grpc-test-sidecar")
  logger.logLevel = .warning
  let sidecar = Sidecar(config: config, database: database, clock: clock, logger: logger)
  try await sidecar.prepare()
  let listeners = GRPCListener.configured(for: sidecar)
  let test = GRPCTestSidecar(sidecar: sidecar, grpcSocketPath: name + ".grpc", clock: clock, listeners: listeners)
  try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await sidecar.run(cleanup: nil, listeners: listeners, signals: []) }
    do {
      try await sidecar.waitUntilListening()
      for listener in listeners { try await listener.waitUntilListening() }
      try await withGRPCClient(
        transport: .http2NIOPosix(target: .unixDomainSocket(path: test.grpcSocketPath), transportSecurity: .plaintext)
      ) { client in
        try await body(test, client)
      }
    } catch {
      await sidecar.shutdown()
      throw error
    }
    await sidecar.shutdown()
  }
}
