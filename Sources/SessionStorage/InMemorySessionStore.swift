import Synchronization

/// A `SessionStore` in memory, with the same contract as the MySQL store. For tests of the session rules
/// (no I/O), and for trying the sidecar without a database.
public final class InMemorySessionStore: SessionStore {
  private struct State {
    var sessions: [String: SessionRecord] = [:]
    var revocations: [RevocationRecord] = []
    var nextRevocationID: Int64 = 1
    var keys: [SigningKeyRecord] = []
    var jobRuns: Set<String> = []
  }

  private let state = Mutex(State())
  /// When set, every call throws it: simulates a database that went away.
  private let outage = Mutex<StoreError?>(nil)

  /// The store's own clock (the database's, for MySQL); nil leaves time to the caller.
  private let clock: (@Sendable () -> Int64)?

  public init(clock: (@Sendable () -> Int64)? = nil) { self.clock = clock }

  /// Makes every following call throw `error` (nil restores the store).
  public func simulateOutage(_ error: StoreError?) { outage.withLock { $0 = error } }

  private func access<R>(_ body: (inout State) throws -> R) throws -> R {
    if let error = outage.withLock({ $0 }) { throw error }
    return try state.withLock { try body(&$0) }
  }

  public func insertSession(_ session: SessionRecord) throws {
    try access { state in
      guard state.sessions[session.handle] == nil else { throw StoreError.duplicate("session handle exists") }
      state.sessions[session.handle] = session
    }
  }

  public func session(handle: String) throws -> SessionRecord? {
    try access { $0.sessions[handle] }
  }

  public func liveSessionHandles(userID: String, nowMs: Int64) throws -> [String] {
    try access { state in
      state.sessions.values.filter { $0.userID == userID && $0.expiresAtMs > nowMs }.map(\.handle).sorted()
    }
  }

  public func updateSession<Result: Sendable>(
    handle: String, _ decide: (SessionRecord?, _ storeNowMs: Int64?) throws -> (SessionChange, Result)
  ) throws -> Result {
    try access { state in
      let (change, result) = try decide(state.sessions[handle], clock?())
      switch change {
      case .keep:
        break
      case .replace(let record):
        state.sessions[handle] = record
      case .revoke(let nowMs, let expiresAtMs):
        if let removed = state.sessions.removeValue(forKey: handle) {
          Self.appendRevocation(
            handle, nowMs: nowMs, expiresAtMs: removed.revocationExpiry(atLeast: expiresAtMs), to: &state)
        }
      }
      return result
    }
  }

  public func revokeSessions(handles: [String], nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    try access { state in
      var revoked: [String] = []
      for handle in handles {
        guard let removed = state.sessions.removeValue(forKey: handle) else { continue }
        Self.appendRevocation(
          handle, nowMs: nowMs, expiresAtMs: removed.revocationExpiry(atLeast: revocationExpiresAtMs), to: &state)
        revoked.append(handle)
      }
      return revoked
    }
  }

  public func revokeSessions(userID: String, nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    let handles = try access { state in state.sessions.values.filter { $0.userID == userID }.map(\.handle).sorted() }
    return try revokeSessions(handles: handles, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
  }

  public func deleteExpiredSessions(nowMs: Int64, limit: Int) throws -> Int {
    try access { state in
      // Oldest first, as the MySQL store deletes them.
      let expired = state.sessions.values.filter { $0.expiresAtMs < nowMs }
        .sorted { ($0.expiresAtMs, $0.handle) < ($1.expiresAtMs, $1.handle) }.prefix(limit).map(\.handle)
      for handle in expired { state.sessions.removeValue(forKey: handle) }
      return expired.count
    }
  }

  public func latestRevocationID() throws -> Int64 {
    try access { $0.revocations.map(\.id).max() ?? 0 }
  }

  /// Empties the revocation log and restarts its ids, as a TRUNCATE does.
  public func truncateRevocations() {
    state.withLock { state in
      state.revocations = []
      state.nextRevocationID = 1
    }
  }

  public func revocations(afterID: Int64, limit: Int) throws -> [RevocationRecord] {
    try access { state in Array(state.revocations.filter { $0.id > afterID }.prefix(limit)) }
  }

  public func deleteExpiredRevocations(nowMs: Int64, limit: Int) throws -> Int {
    try access { state in
      let expired = Set(state.revocations.filter { $0.expiresAtMs < nowMs }.prefix(limit).map(\.id))
      state.revocations.removeAll { expired.contains($0.id) }
      return expired.count
    }
  }

  public func signingKeys() throws -> [SigningKeyRecord] {
    try access { state in state.keys.sorted { $0.slotStartMs < $1.slotStartMs } }
  }

  public func insertSigningKey(_ key: SigningKeyRecord) throws {
    try access { state in
      guard !state.keys.contains(where: { $0.slotStartMs == key.slotStartMs || $0.kid == key.kid }) else {
        throw StoreError.duplicate("a signing key for this slot exists")
      }
      state.keys.append(key)
    }
  }

  public func expireSigningKey(kid: String, atMs: Int64) throws -> Bool {
    try access { state in
      guard let index = state.keys.firstIndex(where: { $0.kid == kid }) else { return false }
      state.keys[index].expiresAtMs = min(state.keys[index].expiresAtMs, atMs)
      return true
    }
  }

  public func sealSigningKey(kid: String, sealedPrivateKey: [UInt8]) throws -> Bool {
    try access { state in
      guard let index = state.keys.firstIndex(where: { $0.kid == kid && !$0.sealed }) else { return false }
      state.keys[index].privateKey = sealedPrivateKey
      state.keys[index].sealed = true
      return true
    }
  }

  public func deleteExpiredSigningKeys(nowMs: Int64) throws -> Int {
    try access { state in
      let before = state.keys.count
      state.keys.removeAll { $0.expiresAtMs < nowMs }
      return before - state.keys.count
    }
  }

  public func claimJobRun(job: String, scheduledAtMs: Int64, claimant: String) throws -> Bool {
    try access { state in state.jobRuns.insert("\(job)@\(scheduledAtMs)").inserted }
  }

  public func ping() throws {
    try access { _ in }
  }

  public func close() {
    outage.withLock { $0 = .unavailable("the store is closed") }
  }

  private static func appendRevocation(_ handle: String, nowMs: Int64, expiresAtMs: Int64, to state: inout State) {
    state.revocations.append(
      RevocationRecord(id: state.nextRevocationID, sessionHandle: handle, revokedAtMs: nowMs, expiresAtMs: expiresAtMs))
    state.nextRevocationID += 1
  }
}
