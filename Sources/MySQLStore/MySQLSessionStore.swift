import Logging
import SessionStorage

/// The source of truth: sessions, signing keys, the revocation log and job claims in MySQL or MariaDB, shared
/// by every sidecar pointed at the same tables. Each call checks a connection out of a bounded pool, runs
/// prepared statements on it and blocks until the database answers (callers use a thread pool).
public final class MySQLSessionStore: SessionStore {
  let pool: ConnectionPool
  let tables: TableNames
  let queries: StoreQueries
  let logger: Logger

  /// How long job-run claims are kept: a sidecar that wakes later than this could run an old slot again.
  static let jobRunRetentionMs: Int64 = 7 * 24 * 3_600_000

  private init(configuration: MySQLConfiguration, tables: TableNames, logger: Logger) {
    self.pool = ConnectionPool(configuration: configuration, logger: logger)
    self.tables = tables
    self.queries = StoreQueries(tables)
    self.logger = logger
  }

  /// Checks the server, the credentials and the database with one connection, then creates the missing tables
  /// and applies pending schema migrations. Table names are validated before any SQL is sent.
  public static func connect(_ configuration: MySQLConfiguration, logger: Logger) throws -> MySQLSessionStore {
    let tables = try TableNames(
      refreshTokenTable: configuration.refreshTokenTable, signingKeyTable: configuration.signingKeyTable
    )
    try configuration.validate()
    let store = MySQLSessionStore(configuration: configuration, tables: tables, logger: logger)
    let version = try store.pool.withConnection { connection in
      try SchemaMigrations.migrate(connection, tables: tables, logger: logger)
    }
    logger.info(
      "connected to MySQL",
      metadata: [
        "mysql.endpoint": "\(configuration.endpointDescription)", "mysql.database": "\(configuration.database)",
        "mysql.table": "\(tables.sessions)", "mysql.schema.version": "\(version)",
      ]
    )
    return store
  }

  public var poolStatistics: PoolStatistics { pool.statistics }

  /// Closes the idle connections; later calls throw `.unavailable`.
  public func close() {
    pool.close()
  }

  // MARK: Sessions

  public func insertSession(_ session: SessionRecord) throws {
    try pool.withConnection { connection in
      try connection.execute(queries.insertSession, session.columnValues, operation: "insertSession")
    }
  }

  public func session(handle: String) throws -> SessionRecord? {
    try pool.withConnection(idempotent: true) { connection in
      try connection.select(queries.selectSession, [.text(handle)], operation: "session").first.map(SessionRecord.init)
    }
  }

  public func liveSessionHandles(userID: String, nowMs: Int64) throws -> [String] {
    try pool.withConnection(idempotent: true) { connection in
      try connection.select(queries.liveSessionHandles, [.text(userID), .int(nowMs)], operation: "liveSessionHandles")
        .map { try $0.string(0) }
    }
  }

  /// On a multi-primary cluster two sidecars can both take "the" row lock through different nodes; the one
  /// whose commit loses certification is rolled back and run again here (`ConnectionPool.withConnection`), and
  /// `decide` decides again from the fresh row: a refresh that lost the race gets the in-grace answer.
  public func updateSession<Result: Sendable>(
    handle: String, _ decide: (SessionRecord?, _ storeNowMs: Int64?) throws -> (SessionChange, Result)
  ) throws -> Result {
    try pool.withConnection { connection in
      try connection.transaction(operation: "updateSession") {
        // The row lock taken here is what serialises concurrent refreshes of one session across sidecars.
        // With it, the database's clock read after the lock: every sidecar measures the grace period on it. (No
        // row, no time: a missing session is refused whatever the time.)
        let row = try connection.select(queries.selectSessionForUpdate, [.text(handle)], operation: "updateSession")
          .first
        let current = try row.map(SessionRecord.init)
        let now = try row?.int(StoreQueries.sessionColumnCount)
        let (change, result) = try decide(current, now)
        switch change {
        case .keep:
          break
        case .replace(let record):
          guard record.handle == handle else {
            throw StoreError.failed("updateSession: a replacement must keep the session's handle")
          }
          if current == nil {
            try connection.execute(queries.insertSession, record.columnValues, operation: "updateSession")
          } else {
            try connection.execute(
              queries.updateSession, record.mutableColumnValues + [.text(handle)], operation: "updateSession"
            )
          }
        case .revoke(let nowMs, let revocationExpiresAtMs):
          _ = try revoke(handle, on: connection, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
        }
        return result
      }
    }
  }

  public func revokeSessions(handles: [String], nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    var seen = Set<String>()
    let unique = handles.filter { seen.insert($0).inserted }
    guard !unique.isEmpty else { return [] }
    let revoked = try pool.withConnection { connection in
      try connection.transaction(operation: "revokeSessions") {
        // Rows are locked in one order everywhere, so two overlapping revocations cannot deadlock.
        try Set(
          unique.sorted().filter {
            try revoke($0, on: connection, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
          }
        )
      }
    }
    return unique.filter(revoked.contains)
  }

  public func revokeSessions(userID: String, nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    try pool.withConnection { connection in
      try connection.transaction(operation: "revokeSessions") {
        let handles = try connection.select(
          queries.userSessionHandlesForUpdate, [.text(userID)], operation: "revokeSessions"
        ).map { try $0.string(0) }
        return try handles.filter {
          try revoke($0, on: connection, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
        }
      }
    }
  }

  public func deleteExpiredSessions(nowMs: Int64, limit: Int) throws -> Int {
    guard limit > 0 else { return 0 }
    return try pool.withConnection { connection in
      try connection.execute(
        queries.deleteExpiredSessions, [.int(nowMs), .int(Int64(limit))], operation: "deleteExpiredSessions"
      )
    }
  }

  /// Deletes one session and logs its revocation, inside the caller's transaction; false when it did not exist.
  private func revoke(
    _ handle: String, on connection: MariaDBConnection, nowMs: Int64, revocationExpiresAtMs: Int64
  ) throws -> Bool {
    // The log entry first, from the row (it lives until the session's last access token expires), then the row.
    try connection.execute(
      queries.insertRevocationOfSession,
      [.int(nowMs), .int(revocationExpiresAtMs), .int(SessionRecord.revocationMarginMs), .text(handle)],
      operation: "revokeSession")
    return try connection.execute(queries.deleteSession, [.text(handle)], operation: "revokeSession") == 1
  }

  // MARK: Health

  public func ping() throws {
    try pool.withConnection(idempotent: true) { connection in try connection.ping() }
  }
}
