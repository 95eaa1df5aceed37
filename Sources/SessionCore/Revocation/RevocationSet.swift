import SessionStorage
import Synchronization

/// Handles of revoked sessions whose access tokens may still be unexpired, held in memory so that with
/// blacklisting on a verify costs no database round trip. Every sidecar fills it from the store's revocation
/// log (`synchronize`, every `revocationSyncInterval`); the sidecar that revokes adds the handle at once.
///
/// Readers copy out an immutable dictionary under a short lock (a reference count), and the sync builds the
/// next one outside the lock, so a large set never stalls verification.
public final class RevocationSet: Sendable {
  private struct Log {
    var lastSeenID: Int64 = 0
    /// Ids below `lastSeenID` not seen yet, with the instant after which they are given up on. Ids are assigned
    /// at insert but rows become visible at commit, so a lower id can appear after a higher one (a long
    /// transaction, a mass revoke); a cluster with an auto-increment step leaves holes that never fill.
    var holes: [Int64: Int64] = [:]
  }

  private let handles = Mutex<[String: Int64]>([:])
  /// Revocations made here since the last sync: the sync carries them into the set it builds, so it never has
  /// to scan the whole set under the lock that every verify takes.
  private let recent = Mutex<[String: Int64]>([:])
  private let log = Mutex(Log())
  /// How long a hole in the id sequence is re-read before it is assumed never to fill.
  let holeLifetimeMs: Int64
  /// Holes tracked at most; past this the oldest are given up (bounds memory after huge id jumps).
  let maxHoles: Int

  public init(holeLifetimeMs: Int64 = 120_000, maxHoles: Int = 10_000) {
    self.holeLifetimeMs = holeLifetimeMs
    self.maxHoles = maxHoles
  }

  public func contains(_ handle: String) -> Bool {
    let current = handles.withLock { $0 }
    return current[handle] != nil
  }

  public var count: Int { handles.withLock { $0.count } }

  /// Enforces a revocation made here, before the log round trip.
  public func insert(_ handles: [String], expiresAtMs: Int64) {
    self.handles.withLock { current in
      for handle in handles { current[handle] = max(current[handle] ?? 0, expiresAtMs) }
    }
    recent.withLock { recent in
      for handle in handles { recent[handle] = max(recent[handle] ?? 0, expiresAtMs) }
    }
  }

  /// One sync round on the database's background lane; returns how many log entries it read.
  @discardableResult
  public func synchronize(from database: SessionDatabase, nowMs: Int64) async throws -> Int {
    try await database.run(on: .background) { [self] store in try synchronize(from: store, nowMs: nowMs) }
  }

  /// Reads the log past the last entry seen (and again over any holes still open), then drops entries whose
  /// tokens have all expired. Blocks on the store; returns how many entries it read.
  @discardableResult
  public func synchronize(from store: any SessionStore, nowMs: Int64, batchSize: Int = 1000) throws -> Int {
    var state = log.withLock { $0 }
    let carried = recent.withLock { recent in
      defer { recent = [:] }
      return recent
    }
    // A log whose ids went backwards was truncated or re-created: read it again from the start.
    var restarted = false
    if state.lastSeenID > 0, try store.latestRevocationID() < state.lastSeenID {
      state = Log()
      restarted = true
    }
    state.holes = state.holes.filter { $0.value > nowMs }
    var after = (state.holes.keys.min().map { $0 - 1 } ?? state.lastSeenID)
    var entries: [RevocationRecord] = []
    while true {
      let batch = try store.revocations(afterID: after, limit: batchSize)
      entries += batch
      for entry in batch {
        state.holes[entry.id] = nil
        if entry.id > state.lastSeenID + 1 {
          for missing in (state.lastSeenID + 1)..<min(entry.id, state.lastSeenID + 1 + Int64(maxHoles)) {
            state.holes[missing] = nowMs + holeLifetimeMs
          }
        }
        state.lastSeenID = max(state.lastSeenID, entry.id)
      }
      if batch.count < batchSize { break }
      after = batch.last!.id
    }
    if state.holes.count > maxHoles {
      for id in state.holes.keys.sorted().prefix(state.holes.count - maxHoles) { state.holes[id] = nil }
    }
    // Built outside the lock: from the current set (or, after a restart, from the log alone), the new entries
    // and the revocations made here since the last sync.
    let current = restarted ? [:] : handles.withLock { $0 }
    var next = current.filter { $0.value > nowMs }
    for entry in entries where entry.expiresAtMs > nowMs {
      next[entry.sessionHandle] = max(next[entry.sessionHandle] ?? 0, entry.expiresAtMs)
    }
    for (handle, expiry) in carried where expiry > nowMs { next[handle] = max(next[handle] ?? 0, expiry) }
    handles.withLock { latest in
      // Only revocations made here while this sync ran are merged under the lock: a handful, not the set.
      for (handle, expiry) in recent.withLock({ $0 }) where expiry > nowMs {
        next[handle] = max(next[handle] ?? 0, expiry)
      }
      latest = next
    }
    log.withLock { $0 = state }
    return entries.count
  }
}
