import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import SessionCore
import SessionSidecarWire
import SessionStorage
import SidecarGRPC
import SidecarServer

/// Rows 6a–c: VerifySession through the gRPC listener's Unix socket (`sidecar.grpc.socketPath`), with grpc-swift-2's
/// own client, against a `Sidecar` in this process on the in-memory store: the same work as rows 5a–c behind
/// HTTP/2, HPACK and a task per call.
struct GRPCBenchmarks {
  typealias Results = SocketBenchmarks.Results

  let warmup: Duration
  let duration: Duration
  let logger: Logger

  func run() async throws -> Results {
    let base = NSTemporaryDirectory() + "session-sidecar-benchmark-grpc-\(getpid())"
    var config = SidecarConfig.benchmark(socketPath: base + ".sock")
    config.sidecar.grpcSocketPath = base + ".grpc"
    let database = try await SessionDatabase.open(requestThreads: 4) { InMemorySessionStore() }
    let sidecar = Sidecar(config: config, database: database, clock: SystemClock(), logger: logger)
    try await sidecar.prepare()
    let listeners = GRPCListener.configured(for: sidecar)
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await sidecar.run(cleanup: ExpiredDataCleanup?.none, listeners: listeners, signals: []) }
      defer { group.cancelAll() }
      for listener in listeners { try await listener.waitUntilListening() }
      return try await measure(socketPath: base + ".grpc")
    }
  }

  private func measure(socketPath: String) async throws -> Results {
    var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
    for _ in 0..<4 {
      clients.append(
        GRPCClient(
          transport: try .http2NIOPosix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)))
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
      for client in clients { group.addTask { try await client.runConnections() } }
      defer { for client in clients { client.beginGracefulShutdown() } }
      return try await measure(clients.map { Sessionsidecar_V1_SessionSidecar.Client(wrapping: $0) })
    }
  }

  private func measure(
    _ clients: [Sessionsidecar_V1_SessionSidecar.Client<HTTP2ClientTransport.Posix>]
  ) async throws -> Results {
    let created = try await clients[0].createSession(
      .with {
        $0.userID = "user-42"
        $0.accessTokenPayloadJson = VerifyPathFixture.customClaims
      })
    let request = Sessionsidecar_V1_VerifySessionRequest.with { $0.accessToken = created.accessToken.token }
    let verify: @Sendable (Sessionsidecar_V1_SessionSidecar.Client<HTTP2ClientTransport.Posix>) async throws -> Bool = {
      try await $0.verifySession(request).outcome == .ok
    }
    let client = clients[0]
    var emptyParts: [Measurement] = []
    var verifyParts: [Measurement] = []
    for round in 0..<SocketBenchmarks.rounds {
      let warmup = round == 0 ? warmup : .zero
      emptyParts.append(
        try await measureConcurrently(
          "empty VerifySession over gRPC, 1 in flight", workers: 1, warmup: warmup,
          duration: duration / SocketBenchmarks.rounds
        ) { _ in
          do {
            _ = try await client.verifySession(.init())
            return false
          } catch let error as RPCError {
            return error.code == .invalidArgument
          }
        })
      verifyParts.append(
        try await measureConcurrently(
          "VerifySession over gRPC, 1 in flight", workers: 1, warmup: warmup,
          duration: duration / SocketBenchmarks.rounds
        ) { _ in try await verify(client) })
    }
    let multiplexed = try await measureConcurrently(
      "VerifySession over gRPC, 64 in flight", workers: SocketBenchmarks.inFlightPerConnection, warmup: warmup,
      duration: duration
    ) { _ in try await verify(client) }
    let fourConnections = try await measureConcurrently(
      "VerifySession over gRPC, 4 × 64 in flight", workers: 4 * SocketBenchmarks.inFlightPerConnection,
      warmup: warmup, duration: duration
    ) { worker in try await verify(clients[worker % clients.count]) }
    return Results(
      emptyRoundTrip: Measurement(combining: emptyParts), oneAtATime: Measurement(combining: verifyParts),
      pipelined: multiplexed, fourConnections: fourConnections)
  }
}
