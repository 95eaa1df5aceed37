/// Every SQL text the store runs, built once from the validated table names. Values are always `?`
/// placeholders; each text is prepared once per connection and reused.
struct StoreQueries: Sendable {
  static let sessionColumns = """
    handle, user_id, refresh_token_hash2, previous_refresh_token_hash2, rotated_at_ms, token_family_key, \
    session_data_json, access_token_payload_json, anti_csrf_token, use_static_key, created_at_ms, expires_at_ms, \
    refresh_generation, last_access_token_expires_at_ms
    """
  static let sessionColumnCount = 14
  static let signingKeyColumns = """
    kid, kind, algorithm, slot_start_ms, private_key, sealed, public_key_pem, created_at_ms, expires_at_ms
    """

  let insertSession: String
  let selectSession: String
  let selectSessionForUpdate: String
  let updateSession: String
  /// The database's time in milliseconds since the epoch, when the expression is evaluated: SYSDATE, unlike NOW,
  /// is not fixed at the statement's start, so in a locking read it is read once the row lock is held.
  static let databaseNowMs = "CAST(UNIX_TIMESTAMP(SYSDATE(3)) * 1000 AS SIGNED)"
  let deleteSession: String
  let liveSessionHandles: String
  let userSessionHandlesForUpdate: String
  let deleteExpiredSessions: String

  let insertRevocation: String
  let insertRevocationOfSession: String
  let revocationsAfter: String
  let deleteExpiredRevocations: String

  let signingKeys: String
  let insertSigningKey: String
  let deleteExpiredSigningKeys: String
  let sealSigningKey: String
  let latestRevocationID: String
  let expireSigningKey: String

  let claimJobRun: String
  let pruneJobRuns: String

  init(_ tables: TableNames) {
    let sessions = "`\(tables.sessions)`"
    let keys = "`\(tables.signingKeys)`"
    let revocations = "`\(tables.revocations)`"
    let jobRuns = "`\(tables.jobRuns)`"

    insertSession = "INSERT INTO \(sessions) (\(Self.sessionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    selectSession = "SELECT \(Self.sessionColumns) FROM \(sessions) WHERE handle = ?"
    // The row under its lock and the database's clock, in one round trip (column 14 is the time).
    selectSessionForUpdate = """
      SELECT \(Self.sessionColumns), \(Self.databaseNowMs) FROM \(sessions) WHERE handle = ? FOR UPDATE
      """
    updateSession = """
      UPDATE \(sessions) SET user_id = ?, refresh_token_hash2 = ?, previous_refresh_token_hash2 = ?, \
      rotated_at_ms = ?, token_family_key = ?, session_data_json = ?, access_token_payload_json = ?, \
      anti_csrf_token = ?, use_static_key = ?, created_at_ms = ?, expires_at_ms = ?, refresh_generation = ?, \
      last_access_token_expires_at_ms = ? \
      WHERE handle = ?
      """
    deleteSession = "DELETE FROM \(sessions) WHERE handle = ?"
    liveSessionHandles = """
      SELECT handle FROM \(sessions) WHERE user_id = ? AND expires_at_ms > ? ORDER BY created_at_ms, handle
      """
    userSessionHandlesForUpdate = """
      SELECT handle FROM \(sessions) WHERE user_id = ? ORDER BY created_at_ms, handle FOR UPDATE
      """
    // Bounded batches, oldest first, so a backlog of a million rows never locks the table for long.
    deleteExpiredSessions = "DELETE FROM \(sessions) WHERE expires_at_ms < ? ORDER BY expires_at_ms LIMIT ?"

    insertRevocation = "INSERT INTO \(revocations) (session_handle, revoked_at_ms, expires_at_ms) VALUES (?, ?, ?)"
    insertRevocationOfSession = """
      INSERT INTO \(revocations) (session_handle, revoked_at_ms, expires_at_ms) \
      SELECT handle, ?, GREATEST(?, IF(last_access_token_expires_at_ms > 0, last_access_token_expires_at_ms + ?, 0)) \
      FROM \(sessions) WHERE handle = ?
      """
    revocationsAfter = """
      SELECT id, session_handle, revoked_at_ms, expires_at_ms FROM \(revocations) WHERE id > ? ORDER BY id LIMIT ?
      """
    deleteExpiredRevocations = "DELETE FROM \(revocations) WHERE expires_at_ms < ? ORDER BY expires_at_ms LIMIT ?"

    signingKeys = "SELECT \(Self.signingKeyColumns) FROM \(keys) ORDER BY slot_start_ms, kid"
    insertSigningKey = "INSERT INTO \(keys) (\(Self.signingKeyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    deleteExpiredSigningKeys = "DELETE FROM \(keys) WHERE expires_at_ms < ?"
    expireSigningKey = "UPDATE \(keys) SET expires_at_ms = LEAST(expires_at_ms, ?) WHERE kid = ?"
    latestRevocationID = "SELECT COALESCE(MAX(id), 0) FROM \(revocations)"
    sealSigningKey = "UPDATE \(keys) SET private_key = ?, sealed = 1 WHERE kid = ? AND sealed = 0"

    claimJobRun = "INSERT INTO \(jobRuns) (job, scheduled_at_ms, claimant, claimed_at_ms) VALUES (?, ?, ?, ?)"
    pruneJobRuns = """
      DELETE FROM \(jobRuns) WHERE job = ? AND scheduled_at_ms < ? ORDER BY scheduled_at_ms LIMIT 100
      """
  }
}
