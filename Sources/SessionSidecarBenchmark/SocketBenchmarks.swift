import Foundation
import Logging
import SessionCore
import SessionSidecarWire
import SessionStorage
import SidecarClient
import SidecarServer

/// Rows 5a–c: VerifySession end to end through the Unix socket, against a `Sidecar` running in this process
/// on the in-memory store. Client and server share the process, its event loops and the machine's cores.
struct SocketBenchmarks {
  struct Results {
    let emptyRoundTrip: Measurement
    let oneAtATime: Measurement
    let pipelined: Measurement
    let fourConnections: Measurement
  }

  static let inFlightPerConnection = 64
  static let rounds = 6

  let warmup: Duration
  let duration: Duration
  let logger: Logger

  func run() async throws -> Results {
    let socketPath = NSTemporaryDirectory() + "session-sidecar-benchmark-\(getpid()).sock"
    let database = try await SessionDatabase.open(requestThreads: 4) { InMemorySessionStore() }
    let sidecar = Sidecar(
      config: .benchmark(socketPath: socketPath), database: database, clock: SystemClock(), logger: logger)
    try await sidecar.prepare()
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await sidecar.run(cleanup: ExpiredDataCleanup?.none, signals: []) }
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

    // One call at a time, with and without verify work, in interleaved rounds so both see the same noise.
    let client = clients[0]
    let empty = Self.verifyRequest(for: "")
    var emptyParts: [Measurement] = []
    var verifyParts: [Measurement] = []
    for round in 0..<Self.rounds {
      let warmup = round == 0 ? warmup : .zero
      emptyParts.append(
        try await measureConcurrently(
          "empty VerifySession, 1 in flight", workers: 1, warmup: warmup, duration: duration / Self.rounds
        ) { _ in try await client.call(empty).status.code == .invalidArgument })
      verifyParts.append(
        try await measureConcurrently(
          "VerifySession, 1 in flight", workers: 1, warmup: warmup, duration: duration / Self.rounds
        ) { _ in try await Self.verify(request, on: client) })
    }
    let emptyRoundTrip = Measurement(combining: emptyParts)
    let oneAtATime = Measurement(combining: verifyParts)

    let pipelined = try await measureConcurrently(
      "VerifySession, 64 in flight", workers: Self.inFlightPerConnection, warmup: warmup, duration: duration
    ) { _ in try await Self.verify(request, on: client) }

    let fourConnections = try await measureConcurrently(
      "VerifySession, 4 × 64 in flight", workers: 4 * Self.inFlightPerConnection, warmup: warmup,
      duration: duration
    ) { [clients] worker in try await Self.verify(request, on: clients[worker % clients.count]) }

    return Results(
      emptyRoundTrip: emptyRoundTrip, oneAtATime: oneAtATime, pipelined: pipelined, fourConnections: fourConnections)
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
