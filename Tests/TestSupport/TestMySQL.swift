import Foundation
import Logging
import MySQLStore
import SessionStorage
import Testing

/// The MariaDB that tests use (scripts/mariadb.sh), from `eval "$(scripts/mariadb.sh env)"`.
///
/// Tests that need it carry `.enabled(if: TestMySQLServer.shouldRun)`: without a server they show as skipped,
/// never as passed. With SIDECAR_REQUIRE_MYSQL=1 (the README's test command and CI) they run regardless, and
/// fail when there is no server, so a CI run cannot pass without them.
public struct TestMySQLServer: Sendable {
  public var host: String
  public var port: Int
  public var user: String
  public var password: String
  /// The server's Unix socket, when it is on this machine.
  public var socket: String?

  public init(host: String, port: Int, user: String, password: String, socket: String? = nil) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.socket = socket
  }

  public static let current: TestMySQLServer? = {
    let environment = ProcessInfo.processInfo.environment
    guard let host = environment["SIDECAR_TEST_MYSQL_HOST"], !host.isEmpty else { return nil }
    return TestMySQLServer(
      host: host, port: environment["SIDECAR_TEST_MYSQL_PORT"].flatMap { Int($0) } ?? 3306,
      user: environment["SIDECAR_TEST_MYSQL_USER"] ?? "sidecar",
      password: environment["SIDECAR_TEST_MYSQL_PASSWORD"] ?? "sidecar",
      socket: environment["SIDECAR_TEST_MYSQL_SOCKET"].flatMap { $0.isEmpty ? nil : $0 })
  }()

  public static var isRequired: Bool { ProcessInfo.processInfo.environment["SIDECAR_REQUIRE_MYSQL"] == "1" }

  /// The condition for `.enabled(if:)`.
  public static var shouldRun: Bool { current != nil || isRequired }

  public static let skipReason: Comment =
    "needs MariaDB: scripts/mariadb.sh start; eval \"$(scripts/mariadb.sh env)\""

  public func configuration(database: String, connectionLimit: Int = 8) -> MySQLConfiguration {
    MySQLConfiguration(
      host: host, port: port, user: user, password: password, database: database, connectionLimit: connectionLimit)
  }
}

/// A database of one test's own, `sidecar_test_<random>`, created before the test body and dropped after it.
public struct TestDatabase: Sendable {
  public let server: TestMySQLServer
  public let name: String
  public static let logger = Logger(label: "tests")

  public init(server: TestMySQLServer, name: String) {
    self.server = server
    self.name = name
  }

  /// The server, or nil after recording a failure (the test was required but there is no server).
  public static func requireServer() -> TestMySQLServer? {
    guard let server = TestMySQLServer.current else {
      Issue.record("no MariaDB for a test that needs one: \(TestMySQLServer.skipReason)")
      return nil
    }
    return server
  }

  /// Runs `body` with a fresh database; records a failure when there is no server (the test was required).
  public static func with(_ body: (TestDatabase) async throws -> Void) async throws {
    guard let server = TestMySQLServer.current else {
      Issue.record("no MariaDB for a test that needs one: \(TestMySQLServer.skipReason)")
      return
    }
    let digits = String(UInt64.random(in: .min ... .max), radix: 16)
    let database = TestDatabase(
      server: server, name: "sidecar_test_" + String(repeating: "0", count: 16 - digits.count) + digits)
    try database.admin("CREATE DATABASE `\(database.name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    do {
      try await body(database)
    } catch {
      try? database.admin("DROP DATABASE IF EXISTS `\(database.name)`")
      throw error
    }
    try? database.admin("DROP DATABASE IF EXISTS `\(database.name)`")
  }

  /// As above for a body that calls the store's blocking methods directly: it runs on a thread of its own, so
  /// that it never holds one of Swift's few cooperative threads (which the sidecars of other tests need).
  public static func with(_ body: @escaping @Sendable (TestDatabase) throws -> Void) async throws {
    try await with { database in
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread {
          continuation.resume(with: Result { try body(database) })
        }.start()
      }
    }
  }

  public var configuration: MySQLConfiguration { server.configuration(database: name) }

  public func connect(
    connectionLimit: Int = 8, refreshTokenTable: String = "refresh_token", signingKeyTable: String = "signing_key"
  ) throws -> MySQLSessionStore {
    var configuration = server.configuration(database: name, connectionLimit: connectionLimit)
    configuration.refreshTokenTable = refreshTokenTable
    configuration.signingKeyTable = signingKeyTable
    return try MySQLSessionStore.connect(configuration, logger: Self.logger)
  }

  /// The store behind its own threads, as the sidecar opens it.
  public func open(connectionLimit: Int = 8) async throws -> SessionDatabase {
    let configuration = server.configuration(database: name, connectionLimit: connectionLimit)
    return try await SessionDatabase.open(requestThreads: connectionLimit) {
      try MySQLSessionStore.connect(configuration, logger: Self.logger)
    }
  }

  /// Runs test-only SQL (CREATE/DROP DATABASE, KILL) on a connection of its own, outside any store.
  public func admin(_ sql: String) throws {
    try MySQLAdministration.run(sql, configuration: server.configuration(database: ""), logger: Self.logger)
  }
}
