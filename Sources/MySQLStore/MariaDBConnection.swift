import Logging
import SessionStorage

/// One open connection of the pool: session settings, a cache of prepared statements (one per SQL text),
/// transactions, and the translation of every library error into a `StoreError`. Used by one thread at a time.
final class MariaDBConnection {
  private let handle: MySQLHandle
  private let configuration: MySQLConfiguration
  /// The server this connection went to (one of `configuration.endpoints`).
  let endpoint: MySQLEndpoint
  private let logger: Logger
  private var statements: [String: PreparedStatement] = [:]
  /// Set once an error shows the connection cannot be trusted; the pool then closes it instead of reusing it.
  private(set) var isBroken = false
  /// When the pool last handed the connection back; a connection idle for long is pinged before reuse.
  var idleSince = ContinuousClock.now

  /// The server's id for this connection (what `KILL` takes).
  let serverConnectionID: UInt64
  /// Whether the server is a node of a Galera cluster (MariaDB's wsrep replication).
  private(set) var isClusterNode = false

  /// Opens a connection to `endpoint` and applies the session settings every query of the store relies on.
  init(configuration: MySQLConfiguration, endpoint: MySQLEndpoint, logger: Logger) throws {
    self.configuration = configuration
    self.endpoint = endpoint
    self.logger = logger
    do {
      handle = try MySQLHandle()
      try handle.connect(configuration, to: endpoint)
    } catch let error as MariaDBError {
      throw error.storeError(operation: "connect", configuration: configuration, endpoint: endpoint)
    }
    serverConnectionID = handle.serverConnectionID
    try run("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'", operation: "connect")
    // Locking reads see the latest committed row and lock only the rows they return (no gap locks), which is
    // all updateSession needs, with fewer lock waits between sidecars.
    try run("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", operation: "connect")
    // Shorter than the 10 s read timeout, so a lock wait ends with a clean error rather than a dropped connection.
    try run("SET SESSION innodb_lock_wait_timeout = 5", operation: "connect")
    if try readsClusterFlag() {
      isClusterNode = true
      // Causal reads: every SELECT, START TRANSACTION (1) and UPDATE/DELETE (2) first waits until this node has
      // applied every write committed through the other nodes, so a session created through one node is found,
      // current, through any other.
      try run("SET SESSION wsrep_sync_wait = 3", operation: "connect")
      // A node outside the primary component, or still joining, answers this with 1047: refused here, the pool
      // then tries the next of mysql.hosts.
      _ = try select("SELECT 1", [], operation: "connect")
    }
    logger.debug(
      "opened MySQL connection",
      metadata: [
        "mysql.endpoint": "\(configuration.describe(endpoint))", "mysql.connection": "\(serverConnectionID)",
        "mysql.cluster": "\(isClusterNode)",
      ]
    )
  }

  deinit {
    // Statements are closed before the handle: each one holds the handle until it goes.
    statements.removeAll()
  }

  /// Runs SQL without parameters or results: DDL, SET, START TRANSACTION. Never given a value. Errors whose
  /// code is in `ignoring` (e.g. "duplicate column" for a step that is already applied) count as success.
  func run(_ sql: String, operation: String, ignoring: Set<UInt32> = []) throws {
    try translatingErrors(operation) {
      do {
        try handle.query(sql)
      } catch let error as MariaDBError where ignoring.contains(error.code) {
        logger.debug(
          "ignored an expected MySQL error",
          metadata: ["mysql.operation": "\(operation)", "mysql.code": "\(error.code)"])
      }
    }
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
    // A Galera node can answer pings while it refuses queries (outside the primary component).
    if isClusterNode { _ = try select("SELECT 1", [], operation: "ping") }
  }

  /// `@@wsrep_on`: 1 on a Galera node; the variable is unknown (1193) to servers built without wsrep.
  private func readsClusterFlag() throws -> Bool {
    do {
      return try statement("SELECT @@global.wsrep_on").execute([]).rows.first?.optionalInt(0) == 1
    } catch let error as MariaDBError where error.code == MariaDBError.Code.unknownSystemVariable {
      return false
    } catch let error as MariaDBError {
      throw error.storeError(operation: "connect", configuration: configuration, endpoint: endpoint)
    }
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
      if error.isRetryableConflict {
        throw TransactionConflict(
          error: error.storeError(operation: operation, configuration: configuration, endpoint: endpoint))
      }
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
      throw error.storeError(operation: operation, configuration: configuration, endpoint: endpoint)
    }
  }
}

/// A transaction rolled back because it conflicted with another (a deadlock, or a Galera certification failure):
/// `ConnectionPool.withConnection` runs the caller's work again from the start, a bounded number of times, and
/// then throws `error`.
struct TransactionConflict: Error {
  let error: StoreError
}
