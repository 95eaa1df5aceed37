internal import CMariaDB
import Logging
import SessionStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// At most `limit` connections, opened lazily and reused most-recently-used first. A call that finds them all
/// busy waits for one; a connection that reported a lost-connection error is closed, so the next call opens
/// a fresh one and the store recovers by itself when the database comes back.
///
/// With several servers (`mysql.hosts`), a new connection goes to the node that answered last, else to the next
/// that answers, in order. A connection lost to a node also drops the idle connections to that node, and later
/// connections start with the next node, so a sidecar whose node died moves to another by itself.
final class ConnectionPool: @unchecked Sendable {
  private let configuration: MySQLConfiguration
  private let endpoints: [MySQLEndpoint]
  private let logger: Logger
  private let lock = ConditionLock()
  // Guarded by `lock`.
  private var idle: [MariaDBConnection] = []
  private var openCount = 0
  private var isClosed = false
  private var waiting = 0
  /// The endpoint new connections try first.
  private var preferred = 0

  var statistics: PoolStatistics {
    lock.withLock { PoolStatistics(inUse: openCount - idle.count, idle: idle.count, waiting: waiting) }
  }

  /// How long a call waits for a busy pool before giving up with `.unavailable`.
  static let checkoutTimeoutSeconds = 30
  /// How many times work that lost a conflict (deadlock, Galera certification failure) is run in all.
  static let conflictAttempts = 6
  /// A connection idle for longer than this is pinged before reuse: the server may have dropped it meanwhile.
  /// (Tests set it to zero to make every checkout ping.)
  var validationInterval = Duration.seconds(5)

  init(configuration: MySQLConfiguration, logger: Logger) {
    self.configuration = configuration
    self.endpoints = configuration.endpoints
    self.logger = logger
  }

  /// Runs `body` on a connection of the pool. Work rolled back by a conflict is run again from the start (the
  /// body must read what it decides on inside itself, as every transaction of the store does), up to
  /// `conflictAttempts` times. `idempotent` work (reads) that loses its connection is also run once more, on a
  /// new connection, which may go to another node.
  @discardableResult
  func withConnection<Value>(idempotent: Bool = false, _ body: (MariaDBConnection) throws -> Value) throws -> Value {
    // Connector/C asks for this on every thread that uses it; a no-op after the thread's first call.
    _ = mysql_thread_init()
    var attempt = 1
    var retriedLostConnection = false
    while true {
      let connection = try checkOut()
      do {
        defer { checkIn(connection) }
        return try body(connection)
      } catch let conflict as TransactionConflict {
        guard attempt < Self.conflictAttempts else {
          logger.warning(
            "MySQL work kept conflicting with other sidecars' writes; giving up",
            metadata: ["mysql.attempts": "\(attempt)", "mysql.error": "\(conflict.error)"])
          throw conflict.error
        }
        logger.debug(
          "MySQL work conflicted with another write; running it again", metadata: ["mysql.attempt": "\(attempt)"])
        // A short random pause, growing with each attempt, so that the conflicting writers do not meet again.
        usleep(UInt32.random(in: 1_000...(5_000 << min(attempt, 4))))
        attempt += 1
      } catch StoreError.unavailable(let message) where idempotent && !retriedLostConnection && connection.isBroken {
        logger.debug(
          "a read lost its MySQL connection; running it again on a new one", metadata: ["mysql.error": "\(message)"])
        retriedLostConnection = true
      }
    }
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
        let first = preferred
        lock.unlock()
        do {
          return try open(startingAt: first)
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

  /// A new connection to the first endpoint, from `first` on, that accepts it and is ready. Errors that no other
  /// node would change (wrong password, unknown database) end the search at once.
  private func open(startingAt first: Int) throws -> MariaDBConnection {
    var failure: StoreError?
    for offset in endpoints.indices {
      let index = (first + offset) % endpoints.count
      do {
        let connection = try MariaDBConnection(configuration: configuration, endpoint: endpoints[index], logger: logger)
        if index != first {
          lock.withLock { preferred = index }
          logger.notice(
            "MySQL connections now go to another node",
            metadata: ["mysql.endpoint": "\(configuration.describe(endpoints[index]))"])
        }
        return connection
      } catch StoreError.unavailable(let message) {
        failure = .unavailable(message)
      }
    }
    guard endpoints.count > 1, case .unavailable(let message) = failure else {
      throw failure ?? StoreError.unavailable("no MySQL endpoint configured")
    }
    throw StoreError.unavailable(
      "no node of mysql.hosts (\(configuration.endpointDescription)) answered; last: \(message)")
  }

  private func checkIn(_ connection: MariaDBConnection) {
    let keep = !connection.isBroken
    connection.idleSince = .now
    var dropped: [MariaDBConnection] = []
    lock.withLock {
      if keep && !isClosed {
        idle.append(connection)
      } else {
        openCount -= 1
      }
      if !keep && endpoints.count > 1 {
        // The node may be gone: its other idle connections would fail their next call too. New connections
        // start with the next node; the failed one is tried again last.
        dropped = idle.filter { $0.endpoint == connection.endpoint }
        idle.removeAll { $0.endpoint == connection.endpoint }
        openCount -= dropped.count
        if endpoints[preferred] == connection.endpoint { preferred = (preferred + 1) % endpoints.count }
      }
      if dropped.isEmpty { lock.signal() } else { lock.broadcast() }
    }
    if !dropped.isEmpty {
      logger.debug(
        "dropped idle MySQL connections to a node that lost one", metadata: ["mysql.dropped": "\(dropped.count)"])
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
