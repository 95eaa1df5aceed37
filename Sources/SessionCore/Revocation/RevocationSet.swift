import SessionStorage
import Synchronization

/// Handles of revoked sessions whose access tokens may still be unexpired, held in memory so that with
/// blacklisting on a verify costs no database round trip. Every sidecar fills it from the store's revocation
/// log (`synchronize`, every `revocationSyncInterval`); the sidecar that revokes adds the handle at once.
public final class RevocationSet: Sendable {
  private struct State {
    var expiryByHandle: [String: Int64] = [:]
    var lastSeenID: Int64 = 0
  }

  private let state = Mutex(State())

  /// How far behind the newest id seen each read starts again. Ids are assigned at insert but rows become
  /// visible at commit, so a lower id can appear after a higher one; re-reading a window catches it.
  let rereadWindow: Int64

  public init(rereadWindow: Int64 = 128) { self.rereadWindow = rereadWindow }

  public func contains(_ handle: String) -> Bool {
    state.withLock { $0.expiryByHandle[handle] != nil }
  }

  public var count: Int { state.withLock { $0.expiryByHandle.count } }

  /// Enforces a revocation made here, before the log round trip.
  public func insert(_ handles: [String], expiresAtMs: Int64) {
    state.withLock { state in
      for handle in handles { state.expiryByHandle[handle] = max(state.expiryByHandle[handle] ?? 0, expiresAtMs) }
    }
  }

  /// Reads the log past the last entry seen and drops entries whose tokens have all expired. Blocks on the
  /// store; returns how many entries it read.
  @discardableResult
  public func synchronize(from store: any SessionStore, nowMs: Int64, batchSize: Int = 1000) throws -> Int {
    var read = 0
    var after = state.withLock { max(0, $0.lastSeenID - rereadWindow) }
    while true {
      let batch = try store.revocations(afterID: after, limit: batchSize)
      state.withLock { state in
        for entry in batch {
          if entry.expiresAtMs > nowMs {
            state.expiryByHandle[entry.sessionHandle] = max(
              state.expiryByHandle[entry.sessionHandle] ?? 0, entry.expiresAtMs)
          }
          state.lastSeenID = max(state.lastSeenID, entry.id)
        }
      }
      read += batch.count
      if batch.count < batchSize { break }
      after = batch.last!.id
    }
    state.withLock { state in state.expiryByHandle = state.expiryByHandle.filter { $0.value > nowMs } }
    return read
  }
}
