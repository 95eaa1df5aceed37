import SessionStorage
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
          ["refresh_token", "InnoDB"], ["refresh_token_job_run", "InnoDB"], ["refresh_token_revocation", "InnoDB"],
          ["refresh_token_schema", "InnoDB"], ["signing_key", "InnoDB"],
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
