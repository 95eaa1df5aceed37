import Logging
import SessionStorage

/// One open connection of the pool: session settings, a cache of prepared statements (one per SQL text),
/// transactions, and the translation of every library error into a `StoreError`. Used by one thread at a time.
final class MariaDBConnection {
  private let handle: MySQLHandle
  private let configuration: MySQLConfiguration
  private let logger: Logger
  private var statements: [String: PreparedStatement] = [:]
  /// Set once an error shows the connection cannot be trusted; the pool then closes it instead of reusing it.
  private(set) var isBroken = false
  /// When the pool last handed the connection back; a connection idle for long is pinged before reuse.
  var idleSince = ContinuousClock.now

  /// The server's id for this connection (what `KILL` takes).
  let serverConnectionID: UInt64

  /// Opens a connection and applies the session settings every query of the store relies on.
  init(configuration: MySQLConfiguration, logger: Logger) throws {
    self.configuration = configuration
    self.logger = logger
    do {
      handle = try MySQLHandle()
      try handle.connect(configuration)
    } catch let error as MariaDBError {
      throw error.storeError(operation: "connect", configuration: configuration)
    }
    serverConnectionID = handle.serverConnectionID
    try run("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'", operation: "connect")
    // Locking reads see the latest committed row and lock only the rows they return (no gap locks), which is
    // all updateSession needs, with fewer lock waits between sidecars.
    try run("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", operation: "connect")
    // Shorter than the 10 s read timeout, so a lock wait ends with a clean error rather than a dropped connection.
    try run("SET SESSION innodb_lock_wait_timeout = 5", operation: "connect")
    logger.debug(
      "opened MySQL connection",
      metadata: ["mysql.endpoint": "\(configuration.endpointDescription)", "mysql.connection": "\(serverConnectionID)"]
    )
  }

  deinit {
    // Statements are closed before the handle: each one holds the handle until it goes.
    statements.removeAll()
  }

  /// Runs SQL without parameters or results: DDL, SET, START TRANSACTION. Never given a value.
  func run(_ sql: String, operation: String) throws {
    try translatingErrors(operation) { try handle.query(sql) }
  }

  /// Executes `sql` as a cached prepared statement with `parameters` bound; returns the affected row count.
  @discardableResult
  func execute(_ sql: String, _ parameters: [MySQLValue], operation: String) throws -> Int {
    try translatingErrors(operation) { try statement(sql).execute(parameters).affectedRows }
  }

  /// Executes `sql` as a cached prepared statement with `parameters` bound; returns its rows.
  func select(_ sql: String, _ parameters: [MySQLValue], operation: String) throws -> [MySQLRow] {
    try translatingErrors(operation) { try statement(sql).execute(parameters).rows }
  }

  /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when anything throws, and the error
  /// (a `StoreError`, or whatever `body` itself threw) is rethrown unchanged.
  func transaction<Value>(operation: String, _ body: () throws -> Value) throws -> Value {
    try run("START TRANSACTION", operation: operation)
    do {
      let value = try body()
      try run("COMMIT", operation: operation)
      return value
    } catch {
      rollback(operation: operation)
      throw error
    }
  }

  func ping() throws {
    try translatingErrors("ping") { try handle.ping() }
  }

  private func rollback(operation: String) {
    guard !isBroken else { return }
    do {
      try handle.rollback()
    } catch {
      // A connection that cannot roll back may still hold locks: never hand it out again.
      isBroken = true
      logger.warning(
        "ROLLBACK failed; closing the connection",
        metadata: ["mysql.operation": "\(operation)", "mysql.error": "\(error)"]
      )
    }
  }

  private func statement(_ sql: String) throws -> PreparedStatement {
    if let cached = statements[sql] { return cached }
    let prepared = try PreparedStatement(sql, on: handle)
    statements[sql] = prepared
    return prepared
  }

  private func translatingErrors<Value>(_ operation: String, _ body: () throws -> Value) throws -> Value {
    do {
      return try body()
    } catch let error as MariaDBError {
      if error.endsConnection {
        isBroken = true
        logger.warning(
          "MySQL connection lost; it will be reopened",
          metadata: [
            "mysql.operation": "\(operation)", "mysql.connection": "\(serverConnectionID)",
            "mysql.error": "\(error.code) \(error.message)",
          ]
        )
      }
      throw error.storeError(operation: operation, configuration: configuration)
    }
  }
}
