/// Storage of sessions, signing keys and the revocation log. Every method blocks the calling thread until
/// the store answers, so the sidecar reaches a store only through `SessionDatabase`, which runs these calls
/// on threads of its own. Implementations: `MySQLStore` (the source of truth, shared by many sidecars) and
/// `InMemorySessionStore` (tests of the session rules and of the socket without a database).
public protocol SessionStore: Sendable {
  // MARK: Sessions

  func insertSession(_ session: SessionRecord) throws
  /// The session, expired or not; nil when there is no such handle.
  func session(handle: String) throws -> SessionRecord?
  /// Handles of `userID`'s sessions whose refresh token has not expired at `nowMs`.
  func liveSessionHandles(userID: String, nowMs: Int64) throws -> [String]
  /// Reads the session under a lock that serializes every other `updateSession` of the same handle (on any
  /// sidecar sharing the store), passes it to `decide`, and applies the returned change atomically.
  /// `decide` sees nil when the handle does not exist, and the store's own time (the database's clock, read
  /// inside the transaction) when it has one, so that rules measured across sidecars use one clock.
  /// Its return value is handed back to the caller.
  func updateSession<Result: Sendable>(
    handle: String, _ decide: (SessionRecord?, _ storeNowMs: Int64?) throws -> (SessionChange, Result)
  ) throws -> Result
  /// Deletes the given sessions and appends each deleted handle to the revocation log in the same
  /// transaction; returns the handles that existed. Each entry expires at the later of `revocationExpiresAtMs`
  /// and the session's last access token's expiry plus `SessionRecord.revocationMarginMs`.
  func revokeSessions(handles: [String], nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String]
  /// As above for every session of `userID`.
  func revokeSessions(userID: String, nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String]
  /// Deletes up to `limit` sessions whose refresh token expired before `nowMs`; returns how many it deleted.
  func deleteExpiredSessions(nowMs: Int64, limit: Int) throws -> Int

  // MARK: Revocation log

  /// Entries with id greater than `afterID`, in id order, at most `limit`.
  func revocations(afterID: Int64, limit: Int) throws -> [RevocationRecord]
  /// The highest id in the log (0 when it is empty): lower than an id already seen means the log was truncated
  /// or re-created, and readers must start over.
  func latestRevocationID() throws -> Int64
  /// Deletes up to `limit` entries that expired before `nowMs`; returns how many it deleted.
  func deleteExpiredRevocations(nowMs: Int64, limit: Int) throws -> Int

  // MARK: Signing keys

  /// Every stored key, oldest slot first.
  func signingKeys() throws -> [SigningKeyRecord]
  /// Inserts a key; throws `StoreError.duplicate` when its slot (or kid) is taken.
  func insertSigningKey(_ key: SigningKeyRecord) throws
  /// Deletes keys that expired before `nowMs`; returns how many it deleted.
  func deleteExpiredSigningKeys(nowMs: Int64) throws -> Int
  /// Makes `kid` expire at `atMs` (or earlier, if it already does); false when there is no such key.
  func expireSigningKey(kid: String, atMs: Int64) throws -> Bool
  /// Replaces the clear private key of `kid` with its sealed form; false when the row is gone or already sealed.
  func sealSigningKey(kid: String, sealedPrivateKey: [UInt8]) throws -> Bool

  // MARK: Coordination

  /// Claims the run of `job` scheduled at `scheduledAtMs`; true for exactly one caller among all the sidecars
  /// sharing the store, so periodic work is not done N times at once.
  func claimJobRun(job: String, scheduledAtMs: Int64, claimant: String) throws -> Bool

  // MARK: Health

  /// Round trip to the database; throws when it cannot be reached.
  func ping() throws
  /// Releases the connections; later calls throw `StoreError.unavailable`.
  func close()
  /// The connection pool now; never blocks (a lock, no I/O).
  var poolStatistics: PoolStatistics { get }
}

/// How busy a store's connection pool is, for metrics.
public struct PoolStatistics: Sendable, Equatable {
  public var inUse: Int
  public var idle: Int
  /// Callers waiting for a connection.
  public var waiting: Int

  public init(inUse: Int = 0, idle: Int = 0, waiting: Int = 0) {
    self.inUse = inUse
    self.idle = idle
    self.waiting = waiting
  }
}

extension SessionStore {
  public var poolStatistics: PoolStatistics { PoolStatistics() }
}

/// What `SessionStore.updateSession` does with the row it read.
public enum SessionChange: Sendable, Equatable {
  case keep
  case replace(SessionRecord)
  /// Deletes the session and records its revocation (it is enforced until `revocationExpiresAtMs`).
  case revoke(nowMs: Int64, revocationExpiresAtMs: Int64)
}
