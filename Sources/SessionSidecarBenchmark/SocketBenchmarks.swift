import Foundation
import Logging
import SessionCore
import SessionStorage
import SidecarClient
import SidecarProtocol
import SidecarServer

/// Rows 5a–c: VerifySession end to end through the Unix socket, against a `Sidecar` running in this process
/// on the in-memory store. Client and server share the process, its event loops and the machine's cores.
struct SocketBenchmarks {
  struct Results {
    let oneAtATime: Measurement
    let pipelined: Measurement
    let fourConnections: Measurement
  }

  static let inFlightPerConnection = 64

  let warmup: Duration
  let duration: Duration
  let logger: Logger

  func run() async throws -> Results {
    let socketPath = NSTemporaryDirectory() + "session-sidecar-benchmark-\(getpid()).sock"
    let sidecar = Sidecar(
      config: .benchmark(socketPath: socketPath), store: InMemorySessionStore(), clock: SystemClock(), logger: logger)
    try await sidecar.prepare()
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await sidecar.run(cleanup: nil, signals: []) }
      defer { group.cancelAll() }
      try await sidecar.waitUntilListening()
      return try await measure(socketPath: socketPath)
    }
  }

  private func measure(socketPath: String) async throws -> Results {
    var clients: [SidecarClient] = []
    for _ in 0..<4 { clients.append(try await SidecarClient.connect(socketPath: socketPath)) }
    let results: Result<Results, any Error>
    do {
      results = .success(try await measure(clients: clients))
    } catch {
      results = .failure(error)
    }
    for client in clients { await client.close() }
    return try results.get()
  }

  private func measure(clients: [SidecarClient]) async throws -> Results {
    let request = Self.verifyRequest(for: try await createSession(clients[0]))

    let oneAtATime = try await measureConcurrently(
      "VerifySession, 1 in flight", workers: 1, warmup: warmup, duration: duration
    ) { [client = clients[0]] _ in try await Self.verify(request, on: client) }

    let pipelined = try await measureConcurrently(
      "VerifySession, 64 in flight", workers: Self.inFlightPerConnection, warmup: warmup, duration: duration
    ) { [client = clients[0]] _ in try await Self.verify(request, on: client) }

    let fourConnections = try await measureConcurrently(
      "VerifySession, 4 × 64 in flight", workers: 4 * Self.inFlightPerConnection, warmup: warmup,
      duration: duration
    ) { [clients] worker in try await Self.verify(request, on: clients[worker % clients.count]) }

    return Results(oneAtATime: oneAtATime, pipelined: pipelined, fourConnections: fourConnections)
  }

  private func createSession(_ client: SidecarClient) async throws -> String {
    var request = WireRequest()
    request.createSession.userID = "user-42"
    request.createSession.accessTokenPayloadJson = VerifyPathFixture.customClaims
    let response = try await client.call(request)
    guard response.status.code == .ok, !response.createSession.accessToken.token.isEmpty else {
      throw BenchmarkError.setupFailed("CreateSession: \(response.status.message)")
    }
    return response.createSession.accessToken.token
  }

  private static func verifyRequest(for accessToken: String) -> WireRequest {
    var request = WireRequest()
    request.verifySession.accessToken = accessToken
    return request
  }

  private static func verify(_ request: WireRequest, on client: SidecarClient) async throws -> Bool {
    let response = try await client.call(request)
    return response.status.code == .ok && response.verifySession.outcome == .ok
  }
}
