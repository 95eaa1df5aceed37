import Logging
import SessionStorage

/// One step of the schema's history. Steps are applied in order and never edited once released: a later
/// version of the sidecar appends a step (e.g. an `ALTER TABLE`) and the store applies it on startup.
struct SchemaMigration: Sendable {
  let version: Int64
  let description: String
  let statements: @Sendable (TableNames) -> [String]
}

/// Brings the tables up to `SchemaMigrations.latest`, recording each applied step in the `<sessions>_schema`
/// table. A database whose recorded version is newer than this code knows is refused, not touched.
enum SchemaMigrations {
  static let all: [SchemaMigration] = [
    SchemaMigration(version: 1, description: "sessions, signing keys, revocation log, job runs") { tables in
      [
        createSessions(tables.sessions), createSigningKeys(tables.signingKeys),
        createRevocations(tables.revocations), createJobRuns(tables.jobRuns),
      ]
    },
    SchemaMigration(version: 2, description: "derivable refresh tokens: a generation counter per session") { tables in
      ["ALTER TABLE `\(tables.sessions)` ADD COLUMN refresh_generation BIGINT NOT NULL DEFAULT 0"]
    },
    SchemaMigration(version: 3, description: "revocations live until the session's last access token expires") {
      tables in
      ["ALTER TABLE `\(tables.sessions)` ADD COLUMN last_access_token_expires_at_ms BIGINT NOT NULL DEFAULT 0"]
    },
  ]

  static var latest: Int64 { all.last?.version ?? 0 }

  /// Returns the schema version the tables have afterwards.
  @discardableResult
  static func migrate(_ connection: MariaDBConnection, tables: TableNames, logger: Logger) throws -> Int64 {
    try connection.run(createSchemaTable(tables.schema), operation: "create schema table")
    // Sidecars starting together take turns: one applies the steps, the others then find nothing to do. The lock
    // is named for this database's tables (other databases on the server migrate independently), and each wait
    // stays under the connection's 10 s read timeout; four waits before giving up.
    let lockName = "CONCAT('session_sidecar:', LEFT(SHA2(CONCAT(DATABASE(), '.', ?), 256), 40))"
    var locked = false
    for _ in 0..<4 where !locked {
      locked =
        try connection.select("SELECT GET_LOCK(\(lockName), 8)", [.text(tables.schema)], operation: "schema lock")
        .first?.optionalInt(0) == 1
    }
    guard locked else {
      throw StoreError.unavailable(
        "another sidecar held the schema lock of '\(tables.schema)' for 32 s: retry, or look for a stuck migration")
    }
    defer {
      _ = try? connection.select(
        "SELECT RELEASE_LOCK(\(lockName))", [.text(tables.schema)], operation: "schema unlock")
    }

    var current = try currentVersion(connection, tables: tables)
    guard current <= latest else {
      throw StoreError.misconfigured(
        "tables '\(tables.sessions)' have schema version \(current), newer than this sidecar knows (\(latest)): "
          + "upgrade the sidecar, or set mysql.tables.refreshTokens to tables of its own"
      )
    }
    for migration in all where migration.version > current {
      for statement in migration.statements(tables) {
        try connection.run(statement, operation: "schema migration \(migration.version)")
      }
      try connection.execute(
        "INSERT INTO `\(tables.schema)` (version, description, applied_at_ms) VALUES (?, ?, ?)",
        [.int(migration.version), .text(migration.description), .int(WallClock.nowMs())],
        operation: "record schema migration \(migration.version)"
      )
      logger.info(
        "applied schema migration",
        metadata: ["mysql.schema.version": "\(migration.version)", "mysql.schema.step": "\(migration.description)"]
      )
      current = migration.version
    }
    return current
  }

  static func currentVersion(_ connection: MariaDBConnection, tables: TableNames) throws -> Int64 {
    let rows = try connection.select(
      "SELECT MAX(version) FROM `\(tables.schema)`", [], operation: "read schema version"
    )
    return try rows.first?.optionalInt(0) ?? 0
  }

  // MARK: Version 1

  private static let tableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

  static func createSchemaTable(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      version BIGINT NOT NULL,
      description VARCHAR(255) NOT NULL,
      applied_at_ms BIGINT NOT NULL,
      PRIMARY KEY (version)
    ) \(tableOptions)
    """
  }

  // utf8mb4_bin: handles and user IDs compare byte for byte, so 'Alice' and 'alice' are two users.
  static func createSessions(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      handle VARCHAR(128) NOT NULL,
      user_id VARCHAR(255) NOT NULL,
      refresh_token_hash2 VARCHAR(128) NOT NULL,
      previous_refresh_token_hash2 VARCHAR(128) NULL,
      rotated_at_ms BIGINT NULL,
      token_family_key VARBINARY(255) NOT NULL,
      session_data_json MEDIUMTEXT NOT NULL,
      access_token_payload_json MEDIUMTEXT NOT NULL,
      anti_csrf_token VARCHAR(255) NULL,
      use_static_key BOOLEAN NOT NULL,
      created_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      PRIMARY KEY (handle),
      KEY user_expiry (user_id, expires_at_ms),
      KEY expiry (expires_at_ms)
    ) \(tableOptions)
    """
  }

  static func createSigningKeys(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      kid VARCHAR(128) NOT NULL,
      kind VARCHAR(16) NOT NULL,
      algorithm VARCHAR(16) NOT NULL,
      slot_start_ms BIGINT NOT NULL,
      private_key BLOB NOT NULL,
      sealed BOOLEAN NOT NULL,
      public_key_pem TEXT NOT NULL,
      created_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      PRIMARY KEY (kid),
      UNIQUE KEY slot (slot_start_ms),
      KEY expiry (expires_at_ms)
    ) \(tableOptions)
    """
  }

  static func createRevocations(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      id BIGINT NOT NULL AUTO_INCREMENT,
      session_handle VARCHAR(128) NOT NULL,
      revoked_at_ms BIGINT NOT NULL,
      expires_at_ms BIGINT NOT NULL,
      PRIMARY KEY (id),
      KEY expiry (expires_at_ms)
    ) \(tableOptions)
    """
  }

  static func createJobRuns(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      job VARCHAR(64) NOT NULL,
      scheduled_at_ms BIGINT NOT NULL,
      claimant VARCHAR(255) NOT NULL,
      claimed_at_ms BIGINT NOT NULL,
      PRIMARY KEY (job, scheduled_at_ms)
    ) \(tableOptions)
    """
  }
}
