import Foundation
import SessionStorage
import TestSupport
import Testing

@testable import MySQLStore

@Suite("Connecting and recovering")
struct ConnectionTests {
  @Test(
    "a wrong password is reported as misconfigured, without the password",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func badPassword() async throws {
    try await TestDatabase.with { database in
      var configuration = database.configuration
      configuration.password = "not-the-password-4711"
      #expect {
        _ = try MySQLSessionStore.connect(configuration, logger: TestDatabase.logger)
      } throws: { error in
        guard case StoreError.misconfigured(let message) = error else { return false }
        return message.hasPrefix("access denied for user '\(configuration.user)'@")
          && message.contains("check mysql.user / mysql.password (or MYSQL_USER / MYSQL_PASSWORD)")
          && !"\(error)".contains("4711")
      }
    }
  }

  @Test(
    "an unknown database is reported as misconfigured",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func unknownDatabase() async throws {
    try await TestDatabase.with { database in
      let missing = database.name + "_missing"
      let configuration = database.server.configuration(database: missing)
      #expect(
        throws: StoreError.misconfigured(
          "database '\(missing)' does not exist: create it (CREATE DATABASE \(missing)) or set mysql.database / "
            + "MYSQL_DATABASE"
        )
      ) {
        _ = try MySQLSessionStore.connect(configuration, logger: TestDatabase.logger)
      }
    }
  }

  @Test("the store connects through a Unix socket", .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func unixSocket() async throws {
    try await TestDatabase.with { database in
      guard let socket = database.server.socket else {
        print("SKIPPED: set SIDECAR_TEST_MYSQL_SOCKET to test connecting through a Unix socket")
        return
      }
      var configuration = database.configuration
      configuration.unixSocket = socket
      let store = try MySQLSessionStore.connect(configuration, logger: TestDatabase.logger)
      try store.ping()
      try store.insertSession(TestRecords.session("h1"))
      #expect(try store.session(handle: "h1")?.handle == "h1")
    }
  }

  @Test("an unreachable server is reported as unavailable, quickly")
  func unreachable() throws {
    let configuration = MySQLConfiguration(host: "127.0.0.1", port: 1, user: "u", password: "p", database: "d")
    let started = ContinuousClock.now
    #expect {
      _ = try MySQLSessionStore.connect(configuration, logger: TestDatabase.logger)
    } throws: { error in
      guard case StoreError.unavailable(let message) = error else { return false }
      return message.hasPrefix("cannot reach MySQL at 127.0.0.1:1: ")
        && message.hasSuffix("; check mysql.host / mysql.port and that the server is running")
    }
    #expect(ContinuousClock.now - started < .seconds(5))
  }

  @Test("the configuration never shows its password")
  func configurationRedactsPassword() {
    let configuration = MySQLConfiguration(user: "u", password: "hunter2", database: "d")
    var dumped = ""
    dump(configuration, to: &dumped)
    #expect(!"\(configuration)".contains("hunter2"))
    #expect(!dumped.contains("hunter2"))
  }

  @Test(
    "the store recovers after its connection is killed",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func recoversAfterKill() async throws {
    try await TestDatabase.with { database in
      let store = try database.connect(connectionLimit: 1)
      try store.insertSession(TestRecords.session("h1"))
      let connectionID = try store.pool.withConnection { $0.serverConnectionID }
      try database.admin("KILL CONNECTION \(connectionID)")
      // The next call may fail once, as unavailable; the broken connection is then replaced.
      do {
        _ = try store.session(handle: "h1")
      } catch let error as StoreError {
        guard case .unavailable = error else {
          Issue.record("expected .unavailable after KILL, got \(error)")
          return
        }
      }
      #expect(try store.session(handle: "h1")?.handle == "h1")
      try store.ping()
      #expect(try store.pool.withConnection { $0.serverConnectionID } != connectionID)
    }
  }

  @Test(
    "an idle connection killed meanwhile is replaced without an error",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func idleConnectionIsValidated() async throws {
    try await TestDatabase.with { database in
      let store = try database.connect(connectionLimit: 1)
      try store.insertSession(TestRecords.session("h1"))
      store.pool.validationInterval = .zero
      let connectionID = try store.pool.withConnection { $0.serverConnectionID }
      try database.admin("KILL CONNECTION \(connectionID)")
      // The checkout pings the idle connection, finds it dead and opens another one: no error reaches the call.
      #expect(try store.session(handle: "h1")?.handle == "h1")
    }
  }
}
