import Foundation
import Logging
import Testing

@testable import MySQLStore

// Same pattern as Tests/MySQLStoreTests/MySQLTestDatabase.swift: the server from SIDECAR_TEST_MYSQL_*
// (scripts/mariadb.sh), one fresh database per test, dropped after it.

struct TestMySQLServer: Sendable {
  var host: String
  var port: Int
  var user: String
  var password: String

  static let skipMessage =
    "SKIPPED: set SIDECAR_TEST_MYSQL_* (scripts/mariadb.sh start; eval \"$(scripts/mariadb.sh env)\")"

  static let current: TestMySQLServer? = {
    let environment = ProcessInfo.processInfo.environment
    guard let host = environment["SIDECAR_TEST_MYSQL_HOST"], !host.isEmpty else { return nil }
    return TestMySQLServer(
      host: host, port: environment["SIDECAR_TEST_MYSQL_PORT"].flatMap { Int($0) } ?? 3306,
      user: environment["SIDECAR_TEST_MYSQL_USER"] ?? "sidecar",
      password: environment["SIDECAR_TEST_MYSQL_PASSWORD"] ?? "sidecar")
  }()

  static var isRequired: Bool { ProcessInfo.processInfo.environment["SIDECAR_REQUIRE_MYSQL"] == "1" }

  /// The test server; nil after printing the SKIPPED line (or recording a failure when one is required).
  static func availableOrSkip() -> TestMySQLServer? {
    guard let server = current else {
      if isRequired {
        Issue.record("SIDECAR_REQUIRE_MYSQL=1 but no test server: \(skipMessage)")
      } else {
        print(skipMessage)
      }
      return nil
    }
    return server
  }
}

struct TestDatabase: Sendable {
  let server: TestMySQLServer
  let name: String
  static let logger = Logger(label: "SidecarServerTests")

  /// Runs `body` with a fresh database; without a server prints the SKIPPED line (or fails when required).
  static func with(_ body: (TestDatabase) async throws -> Void) async throws {
    guard let server = TestMySQLServer.availableOrSkip() else { return }
    let database = TestDatabase(server: server, name: "sidecar_test_\(UInt64.random(in: 0...UInt64.max))")
    try database.admin("CREATE DATABASE `\(database.name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    do {
      try await body(database)
    } catch {
      try? database.admin("DROP DATABASE IF EXISTS `\(database.name)`")
      throw error
    }
    try? database.admin("DROP DATABASE IF EXISTS `\(database.name)`")
  }

  func connectStore() throws -> MySQLSessionStore {
    try MySQLSessionStore.connect(
      MySQLConfiguration(
        host: server.host, port: server.port, user: server.user, password: server.password, database: name,
        connectionLimit: 8),
      logger: Self.logger)
  }

  func admin(_ sql: String) throws {
    try MariaDBConnection(
      configuration: MySQLConfiguration(
        host: server.host, port: server.port, user: server.user, password: server.password, database: ""),
      logger: Self.logger
    ).run(sql, operation: "test admin")
  }
}
