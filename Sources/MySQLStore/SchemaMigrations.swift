import Logging
import SessionStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

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
  ///
  /// Sidecars starting together take turns without `GET_LOCK` (a Galera cluster does not replicate it): each
  /// pending step is claimed with a row in `<sessions>_migration` (its primary key is the version), the one
  /// sidecar whose row goes in applies the step and records it, and the others wait until it is recorded. A claim
  /// left by a sidecar that died half way is taken over once it is `timing.staleClaimMs` old, measured on the
  /// database's clock; the statements of a step are then run again, tolerating what the dead one already did.
  @discardableResult
  static func migrate(
    _ connection: MariaDBConnection, tables: TableNames, logger: Logger, timing: ClaimTiming = .standard
  ) throws -> Int64 {
    try connection.run(createSchemaTable(tables.schema), operation: "create schema table")
    try connection.run(createMigrationClaims(tables.migrationClaims), operation: "create schema table")
    var current = try currentVersion(connection, tables: tables)
    guard current <= latest else {
      throw StoreError.misconfigured(
        "tables '\(tables.sessions)' have schema version \(current), newer than this sidecar knows (\(latest)): "
          + "upgrade the sidecar, or set mysql.tables.refreshTokens to tables of its own"
      )
    }
    for migration in all where migration.version > current {
      current = try apply(migration, connection, tables: tables, logger: logger, timing: timing)
    }
    return current
  }

  /// How long a claim may stand before it counts as abandoned, and how long a starting sidecar waits for one.
  struct ClaimTiming: Sendable {
    var staleClaimMs: Int64
    var waitLimitMs: Int64
    var pollMs: UInt32

    /// A step is a few DDL statements; on a large sessions table an ALTER can take minutes, hence the margins.
    static let standard = ClaimTiming(staleClaimMs: 300_000, waitLimitMs: 90_000, pollMs: 250)
  }

  /// MySQL error codes that mean a step's statement already took effect (a claimant died after it).
  static let alreadyApplied: Set<UInt32> = [
    1050,  // ER_TABLE_EXISTS_ERROR
    1060,  // ER_DUP_FIELDNAME
    1061,  // ER_DUP_KEYNAME
  ]

  /// Applies `migration` here, or waits until another sidecar has; returns the version the tables then have.
  private static func apply(
    _ migration: SchemaMigration, _ connection: MariaDBConnection, tables: TableNames, logger: Logger,
    timing: ClaimTiming
  ) throws -> Int64 {
    let claims = "`\(tables.migrationClaims)`"
    var waitedMs: Int64 = 0
    while true {
      let current = try currentVersion(connection, tables: tables)
      if current >= migration.version { return current }
      do {
        try connection.execute(
          "INSERT INTO \(claims) (version, claimant, claimed_at_ms) VALUES (?, ?, \(StoreQueries.databaseNowMs))",
          [.int(migration.version), .text(claimant)], operation: "claim schema migration \(migration.version)")
      } catch StoreError.duplicate {
        // Claimed by another sidecar: wait for it, or take the claim over when it is abandoned.
        let claim = try connection.select(
          "SELECT claimant, \(StoreQueries.databaseNowMs) - claimed_at_ms FROM \(claims) WHERE version = ?",
          [.int(migration.version)], operation: "read schema claim"
        ).first
        if let claim, try claim.int(1) >= timing.staleClaimMs {
          let holder = try claim.string(0)
          logger.warning(
            "taking over an abandoned schema migration",
            metadata: ["mysql.schema.version": "\(migration.version)", "mysql.schema.claimant": "\(holder)"])
          try connection.execute(
            "DELETE FROM \(claims) WHERE version = ? AND claimant = ?", [.int(migration.version), .text(holder)],
            operation: "release abandoned schema claim")
          continue
        }
        guard waitedMs < timing.waitLimitMs else {
          let holder = try claim?.string(0) ?? "another sidecar"
          throw StoreError.unavailable(
            "schema migration \(migration.version) of '\(tables.sessions)' was claimed by \(holder) and is not done "
              + "after \(waitedMs / 1000) s: retry; a claim abandoned by a crashed sidecar is taken over after "
              + "\(timing.staleClaimMs / 1000) s")
        }
        usleep(timing.pollMs * 1000)
        waitedMs += Int64(timing.pollMs)
        continue
      }
      for statement in migration.statements(tables) {
        try connection.run(statement, operation: "schema migration \(migration.version)", ignoring: alreadyApplied)
      }
      do {
        try connection.execute(
          "INSERT INTO `\(tables.schema)` (version, description, applied_at_ms) VALUES (?, ?, ?)",
          [.int(migration.version), .text(migration.description), .int(WallClock.nowMs())],
          operation: "record schema migration \(migration.version)"
        )
      } catch StoreError.duplicate {
        // A claimant taken for dead finished after all: the step is recorded once, by whichever came first.
      }
      logger.info(
        "applied schema migration",
        metadata: ["mysql.schema.version": "\(migration.version)", "mysql.schema.step": "\(migration.description)"]
      )
      return migration.version
    }
  }

  /// Who claims a step, as the claims table shows it: this host and process.
  static let claimant: String = {
    var name = [CChar](repeating: 0, count: 256)
    let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "unknown-host"
    return "\(host.prefix(200)) pid \(getpid())"
  }()

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

  static func createMigrationClaims(_ name: String) -> String {
    """
    CREATE TABLE IF NOT EXISTS `\(name)` (
      version BIGINT NOT NULL,
      claimant VARCHAR(255) NOT NULL,
      claimed_at_ms BIGINT NOT NULL,
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
