import SessionStorage
import Synchronization
import TestSupport
import Testing

@testable import MySQLStore

@Suite("Schema")
struct SchemaTests {
  @Test(
    "connect creates the tables once and records the schema version",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func schemaIsIdempotentAndVersioned() async throws {
    try await TestDatabase.with { database in
      _ = try database.connect()
      _ = try database.connect()
      let tables = try database.select(
        "SELECT table_name, engine FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
        [.text(database.name)]
      ).map { [try $0.string(0), try $0.string(1)] }
      #expect(
        tables == [
          ["refresh_token", "InnoDB"], ["refresh_token_job_run", "InnoDB"], ["refresh_token_migration", "InnoDB"],
          ["refresh_token_revocation", "InnoDB"], ["refresh_token_schema", "InnoDB"], ["signing_key", "InnoDB"],
        ]
      )
      let versions = try database.select("SELECT version FROM refresh_token_schema").map { try $0.int(0) }
      #expect(versions == SchemaMigrations.all.map(\.version))
    }
  }

  @Test(
    "configured table names get tables of their own",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func configuredTableNames() async throws {
    try await TestDatabase.with { database in
      let store = try database.connect(refreshTokenTable: "app_sessions", signingKeyTable: "app_keys")
      try store.insertSession(TestRecords.session("h1"))
      let count = try database.select("SELECT COUNT(*) FROM app_sessions").first?.int(0)
      #expect(count == 1)
      #expect(try database.select("SELECT COUNT(*) FROM app_sessions_schema").first?.int(0) == SchemaMigrations.latest)
    }
  }

  @Test(
    "sidecars connecting at once to empty tables: every one starts, each step is applied and recorded once",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func concurrentFirstStarts() async throws {
    try await TestDatabase.with { (database: TestDatabase) in
      let failures = Mutex<[String]>([])
      runOnThreads(6) { _ in
        do { _ = try database.connect() } catch { failures.withLock { $0.append("\(error)") } }
      }
      #expect(failures.withLock { $0 }.isEmpty)
      let versions = try database.select("SELECT version FROM refresh_token_schema ORDER BY version").map {
        try $0.int(0)
      }
      #expect(versions == SchemaMigrations.all.map(\.version))
      let claims = try database.select("SELECT version FROM refresh_token_migration ORDER BY version").map {
        try $0.int(0)
      }
      #expect(claims == SchemaMigrations.all.map(\.version), "each step claimed once, by the one that applied it")
    }
  }

  @Test(
    "a step claimed by a sidecar that died half way is taken over and finished, tolerating what it did",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func abandonedClaimIsTakenOver() async throws {
    try await TestDatabase.with { (database: TestDatabase) in
      _ = try database.connect()
      // The dead claimant applied step 3's ALTER (the column exists) but never recorded it; its claim is old.
      _ = try database.select("DELETE FROM refresh_token_schema WHERE version = 3")
      _ = try database.select(
        "UPDATE refresh_token_migration SET claimant = 'dead-host pid 1', "
          + "claimed_at_ms = CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) - 600000 WHERE version = 3")
      _ = try database.connect()
      #expect(try database.select("SELECT MAX(version) FROM refresh_token_schema").first?.int(0) == 3)
      let claimant = try database.select("SELECT claimant FROM refresh_token_migration WHERE version = 3").first?
        .string(0)
      #expect(claimant == SchemaMigrations.claimant)
    }
  }

  @Test(
    "a step freshly claimed by another sidecar is waited for, then refused with who holds it",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func liveClaimIsWaitedFor() async throws {
    try await TestDatabase.with { (database: TestDatabase) in
      _ = try database.connect()
      _ = try database.select("DELETE FROM refresh_token_schema WHERE version = 3")
      _ = try database.select(
        "UPDATE refresh_token_migration SET claimant = 'busy-host pid 7', "
          + "claimed_at_ms = CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) WHERE version = 3")
      let connection = try MariaDBConnection(
        configuration: database.configuration,
        endpoint: MySQLEndpoint(host: database.server.host, port: database.server.port), logger: TestDatabase.logger)
      let tables = try TableNames(refreshTokenTable: "refresh_token", signingKeyTable: "signing_key")
      #expect {
        try SchemaMigrations.migrate(
          connection, tables: tables, logger: TestDatabase.logger,
          timing: .init(staleClaimMs: 300_000, waitLimitMs: 400, pollMs: 50))
      } throws: { error in
        guard case StoreError.unavailable(let message) = error else { return false }
        return message.contains("claimed by busy-host pid 7")
      }
      // Once the other sidecar records the step, the wait ends with nothing to do.
      _ = try database.select(
        "INSERT INTO refresh_token_schema (version, description, applied_at_ms) VALUES (3, 'by busy-host', 0)")
      let version = try SchemaMigrations.migrate(connection, tables: tables, logger: TestDatabase.logger)
      #expect(version == 3)
    }
  }

  @Test("a schema newer than the code is refused", .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func newerSchemaIsRefused() async throws {
    try await TestDatabase.with { database in
      _ = try database.connect()
      _ = try database.select(
        "INSERT INTO refresh_token_schema (version, description, applied_at_ms) VALUES (?, 'from the future', 0)",
        [.int(SchemaMigrations.latest + 1)]
      )
      #expect {
        _ = try database.connect()
      } throws: { error in
        guard case StoreError.misconfigured(let message) = error else { return false }
        return message.contains("schema version \(SchemaMigrations.latest + 1), newer than this sidecar knows")
      }
    }
  }

  @Test(
    "invalid table names are refused before any SQL",
    arguments: [
      "", "bad-name", "x; DROP TABLE y", "a b", "tabl\u{e9}", "`quoted`", String(repeating: "a", count: 65),
      // Valid alone, but the derived <name>_revocation passes 64 characters.
      String(repeating: "a", count: 60),
    ]
  )
  func invalidTableNames(name: String) throws {
    // Port 1: nothing listens there, so reaching the server would fail differently (.unavailable).
    // The signing key table has no derived names, so a 60-character name is fine there.
    let placements =
      TableNames.isValid(name) ? [(name, "signing_key")] : [(name, "signing_key"), ("refresh_token", name)]
    for (sessions, keys) in placements {
      let configuration = MySQLConfiguration(
        host: "127.0.0.1", port: 1, user: "u", password: "p", database: "d", signingKeyTable: keys,
        refreshTokenTable: sessions
      )
      #expect {
        _ = try MySQLSessionStore.connect(configuration, logger: TestDatabase.logger)
      } throws: { error in
        guard case StoreError.misconfigured(let message) = error else { return false }
        return message.contains("invalid table name")
      }
    }
  }

  @Test("table name validation accepts plain identifiers")
  func validTableNames() {
    #expect(TableNames.isValid("refresh_token"))
    #expect(TableNames.isValid("A_1"))
    #expect(TableNames.isValid(String(repeating: "a", count: 64)))
    #expect(!TableNames.isValid("a.b"))
    #expect(!TableNames.isValid("a\u{0}"))
  }
}
