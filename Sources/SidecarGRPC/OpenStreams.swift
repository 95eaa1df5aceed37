import GRPCCore
import Synchronization

/// The server streams that never end on their own (WatchSigningKeys, health Watch). gRPC's graceful shutdown
/// waits for every open RPC, so the drain ends these first, each with UNAVAILABLE "the sidecar is shutting down",
/// as the socket ends its key streams.
final class OpenStreams: Sendable {
  private struct State {
    var draining = false
    var nextID = 0
    var enders: [Int: @Sendable () -> Void] = [:]
  }

  private let state = Mutex(State())

  var isDraining: Bool { state.withLock { $0.draining } }

  /// Runs `body` (a stream's writing loop) until it returns, the RPC is cancelled, or the drain begins; in the
  /// last case throws `GRPCStatusMapping.shuttingDown`.
  func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let task = Task { try await body() }
    let id: Int? = state.withLock { state in
      guard !state.draining else { return nil }
      defer { state.nextID += 1 }
      state.enders[state.nextID] = { task.cancel() }
      return state.nextID
    }
    guard let id else {
      task.cancel()
      throw GRPCStatusMapping.shuttingDown
    }
    defer { _ = state.withLock { $0.enders.removeValue(forKey: id) } }
    do {
      try await withTaskCancellationHandler {
        try await task.value
      } onCancel: {
        task.cancel()
      }
    } catch  where isDraining {
      throw GRPCStatusMapping.shuttingDown
    }
    if isDraining { throw GRPCStatusMapping.shuttingDown }
  }

  /// Ends every open stream and refuses new ones.
  func drain() {
    let enders = state.withLock { state in
      state.draining = true
      return Array(state.enders.values)
    }
    for end in enders { end() }
  }
}
