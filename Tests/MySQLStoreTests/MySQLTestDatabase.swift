import Foundation
import Logging
import SessionStorage
import Testing

@testable import MySQLStore

// The database fixture for tests against a real MariaDB (scripts/mariadb.sh). Copy this file to give another
// test target the same pattern: settings from SIDECAR_TEST_MYSQL_*, one fresh database per test, dropped after.

/// The test server, from `eval "$(scripts/mariadb.sh env)"`; nil when SIDECAR_TEST_MYSQL_HOST is unset.
struct MySQLTestServer: Sendable {
  var host: String
  var port: Int
  var user: String
  var password: String
  /// The server's Unix socket, when it is on this machine.
  var socket: String?

  static let skipMessage =
    "SKIPPED: set SIDECAR_TEST_MYSQL_* (scripts/mariadb.sh start; eval \"$(scripts/mariadb.sh env)\")"

  static let current: MySQLTestServer? = {
    let environment = ProcessInfo.processInfo.environment
    guard let host = environment["SIDECAR_TEST_MYSQL_HOST"], !host.isEmpty else { return nil }
    return MySQLTestServer(
      host: host, port: environment["SIDECAR_TEST_MYSQL_PORT"].flatMap { Int($0) } ?? 3306,
      user: environment["SIDECAR_TEST_MYSQL_USER"] ?? "sidecar",
      password: environment["SIDECAR_TEST_MYSQL_PASSWORD"] ?? "sidecar",
      socket: environment["SIDECAR_TEST_MYSQL_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    )
  }()

  /// With SIDECAR_REQUIRE_MYSQL=1 (CI), a missing server fails the tests instead of skipping them.
  static var isRequired: Bool { ProcessInfo.processInfo.environment["SIDECAR_REQUIRE_MYSQL"] == "1" }

  func configuration(database: String, connectionLimit: Int = 4) -> MySQLConfiguration {
    MySQLConfiguration(
      host: host, port: port, user: user, password: password, database: database, connectionLimit: connectionLimit
    )
  }
}

/// A database of one test's own, `sidecar_test_<random>`, created before the test body and dropped after it.
struct TestDatabase: Sendable {
  let server: MySQLTestServer
  let name: String

  static let logger = Logger(label: "MySQLStoreTests")

  /// Runs `body` with a fresh database. Without a test server it prints the SKIPPED line and returns (the test
  /// passes), unless SIDECAR_REQUIRE_MYSQL=1, when it records a failure.
  static func with(_ body: (TestDatabase) throws -> Void) throws {
    guard let server = MySQLTestServer.current else {
      if MySQLTestServer.isRequired {
        Issue.record("SIDECAR_REQUIRE_MYSQL=1 but \(MySQLTestServer.skipMessage.dropFirst("SKIPPED: ".count))")
      } else {
        print(MySQLTestServer.skipMessage)
      }
      return
    }
    let database = TestDatabase(server: server, name: "sidecar_test_\(UInt64.random(in: .min ... .max).hex)")
    try database.admin("CREATE DATABASE `\(database.name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    defer { try? database.admin("DROP DATABASE IF EXISTS `\(database.name)`") }
    try body(database)
  }

  var configuration: MySQLConfiguration { server.configuration(database: name) }

  func connect(
    connectionLimit: Int = 4, refreshTokenTable: String = "refresh_token", signingKeyTable: String = "signing_key"
  ) throws -> MySQLSessionStore {
    var configuration = server.configuration(database: name, connectionLimit: connectionLimit)
    configuration.refreshTokenTable = refreshTokenTable
    configuration.signingKeyTable = signingKeyTable
    return try MySQLSessionStore.connect(configuration, logger: Self.logger)
  }

  /// Runs test-only SQL (CREATE/DROP DATABASE, KILL) on a connection of its own, outside any store.
  func admin(_ sql: String) throws {
    try adminConnection(database: "").run(sql, operation: "test admin")
  }

  /// Runs a query in this database on a connection of its own; values are bound as in the store.
  func select(_ sql: String, _ parameters: [MySQLValue] = []) throws -> [MySQLRow] {
    try adminConnection(database: name).select(sql, parameters, operation: "test query")
  }

  private func adminConnection(database: String) throws -> MariaDBConnection {
    try MariaDBConnection(configuration: server.configuration(database: database), logger: Self.logger)
  }
}

extension UInt64 {
  fileprivate var hex: String {
    let digits = String(self, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
