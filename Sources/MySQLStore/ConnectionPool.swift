internal import CMariaDB
import Logging
import SessionStorage

/// At most `limit` connections, opened lazily and reused most-recently-used first. A call that finds them all
/// busy waits for one; a connection that reported a lost-connection error is closed, so the next call opens
/// a fresh one and the store recovers by itself when the database comes back.
final class ConnectionPool: @unchecked Sendable {
  private let configuration: MySQLConfiguration
  private let logger: Logger
  private let lock = ConditionLock()
  // Guarded by `lock`.
  private var idle: [MariaDBConnection] = []
  private var openCount = 0
  private var isClosed = false
  private var waiting = 0

  var statistics: PoolStatistics {
    lock.withLock { PoolStatistics(inUse: openCount - idle.count, idle: idle.count, waiting: waiting) }
  }

  /// How long a call waits for a busy pool before giving up with `.unavailable`.
  static let checkoutTimeoutSeconds = 30
  /// A connection idle for longer than this is pinged before reuse: the server may have dropped it meanwhile.
  /// (Tests set it to zero to make every checkout ping.)
  var validationInterval = Duration.seconds(5)

  init(configuration: MySQLConfiguration, logger: Logger) {
    self.configuration = configuration
    self.logger = logger
  }

  @discardableResult
  func withConnection<Value>(_ body: (MariaDBConnection) throws -> Value) throws -> Value {
    // Connector/C asks for this on every thread that uses it; a no-op after the thread's first call.
    _ = mysql_thread_init()
    let connection = try checkOut()
    defer { checkIn(connection) }
    return try body(connection)
  }

  /// Closes the idle connections and refuses further calls; busy ones close when they come back.
  func close() {
    let closing = lock.withLock {
      isClosed = true
      openCount -= idle.count
      defer { idle.removeAll() }
      return idle
    }
    logger.debug("closing MySQL connection pool", metadata: ["mysql.idle": "\(closing.count)"])
  }

  private func checkOut() throws -> MariaDBConnection {
    lock.lock()
    while true {
      if isClosed {
        lock.unlock()
        throw StoreError.unavailable("the MySQL store is closed")
      }
      if let connection = idle.popLast() {
        lock.unlock()
        if isUsable(connection) { return connection }
        lock.lock()
        openCount -= 1
        continue
      }
      if openCount < configuration.connectionLimit {
        openCount += 1
        lock.unlock()
        do {
          return try MariaDBConnection(configuration: configuration, logger: logger)
        } catch {
          lock.withLock {
            openCount -= 1
            lock.signal()
          }
          throw error
        }
      }
      waiting += 1
      let signalled = lock.wait(seconds: Self.checkoutTimeoutSeconds)
      waiting -= 1
      guard signalled else {
        lock.unlock()
        throw StoreError.unavailable(
          "all \(configuration.connectionLimit) MySQL connections stayed busy for \(Self.checkoutTimeoutSeconds) s: "
            + "raise mysql.connectionLimit or look for slow queries"
        )
      }
    }
  }

  private func checkIn(_ connection: MariaDBConnection) {
    let keep = !connection.isBroken
    connection.idleSince = .now
    lock.withLock {
      if keep && !isClosed {
        idle.append(connection)
      } else {
        openCount -= 1
      }
      lock.signal()
    }
  }

  /// False for a connection that failed a ping after a long idle time (it is then closed here).
  private func isUsable(_ connection: MariaDBConnection) -> Bool {
    guard ContinuousClock.now - connection.idleSince > validationInterval else { return true }
    do {
      try connection.ping()
      return true
    } catch {
      logger.debug("dropping an idle MySQL connection that failed its ping", metadata: ["mysql.error": "\(error)"])
      return false
    }
  }
}
