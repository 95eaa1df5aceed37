import SessionStorage

/// An error code the client library or the server reported, with its text. Turned into a `StoreError` by
/// `storeError(...)`, the one place that decides what each code means to the rest of the sidecar.
struct MariaDBError: Error {
  let code: UInt32
  let message: String

  /// Codes this store reacts to; the numbers are stable across MySQL and MariaDB.
  enum Code {
    static let databaseAccessDenied: UInt32 = 1044  // ER_DBACCESS_DENIED_ERROR
    static let accessDenied: UInt32 = 1045  // ER_ACCESS_DENIED_ERROR
    static let unknownDatabase: UInt32 = 1049  // ER_BAD_DB_ERROR
    static let serverShutdown: UInt32 = 1053  // ER_SERVER_SHUTDOWN
    static let duplicateKey: UInt32 = 1062  // ER_DUP_ENTRY
    static let tableAccessDenied: UInt32 = 1142  // ER_TABLEACCESS_DENIED_ERROR
    static let lockWaitTimeout: UInt32 = 1205  // ER_LOCK_WAIT_TIMEOUT
    /// Also what a Galera node answers when its transaction lost certification to a conflicting one committed
    /// through another node: the transaction was rolled back and may be run again.
    static let deadlock: UInt32 = 1213  // ER_LOCK_DEADLOCK
    /// A Galera node outside the primary component (or still joining): "WSREP has not yet prepared node for
    /// application use". It refuses every query until it rejoins, so its connections are dropped.
    static let nodeNotReady: UInt32 = 1047  // ER_UNKNOWN_COM_ERROR
    /// MySQL Group Replication (InnoDB Cluster, multi-primary): the commit lost certification and was rolled back.
    static let groupReplicationRollback: UInt32 = 3101  // ER_TRANSACTION_ROLLBACK_DURING_COMMIT
    static let unknownSystemVariable: UInt32 = 1193  // ER_UNKNOWN_SYSTEM_VARIABLE
    static let connectionKilled: UInt32 = 1927  // ER_CONNECTION_KILLED (MariaDB)
    static let interactionTimeout: UInt32 = 4031  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    /// Failures to open a connection: CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_UNKNOWN_HOST,
    /// CR_SERVER_HANDSHAKE_ERR, CR_CONN_UNKNOWN_PROTOCOL.
    static let unreachable: Set<UInt32> = [2002, 2003, 2005, 2012, 2047]
    /// CR_SSL_CONNECTION_ERROR: no TLS offered, handshake failed, or the certificate did not verify.
    static let tlsFailed: UInt32 = 2026
    /// Server-side codes that end the connection: shutdown, killed, aborted, network read/write errors, idle
    /// timeout. Every client-side code (2000-2999, 5000-5999) is treated the same way.
    static let connectionEnding: Set<UInt32> = [1047, 1053, 1152, 1158, 1159, 1160, 1161, 1184, 1927, 4031]
  }

  /// Whether the transaction was rolled back because it conflicted with another one, so running it again, from
  /// fresh reads, is safe: a deadlock on one server, a certification failure on a Galera cluster.
  var isRetryableConflict: Bool { code == Code.deadlock || code == Code.groupReplicationRollback }

  /// Whether the connection that reported this can no longer be trusted and must be closed and reopened.
  var endsConnection: Bool {
    Code.connectionEnding.contains(code) || (2000..<3000).contains(code) || (5000..<6000).contains(code)
  }

  /// What this error means to the caller. `operation` names what we were doing ("insertSigningKey");
  /// `configuration` supplies user and database, and `endpoint` the server, for the messages an operator acts on.
  func storeError(operation: String, configuration: MySQLConfiguration, endpoint: MySQLEndpoint) -> StoreError {
    let at = configuration.describe(endpoint)
    switch code {
    case Code.accessDenied:
      let host = configuration.unixSocket == nil ? endpoint.host : "localhost"
      return .misconfigured(
        "access denied for user '\(configuration.user)'@\(host): check mysql.user / mysql.password "
          + "(or MYSQL_USER / MYSQL_PASSWORD)"
      )
    case Code.unknownDatabase:
      let database = configuration.database
      return .misconfigured(
        "database '\(database)' does not exist: create it (CREATE DATABASE \(database)) or set mysql.database / "
          + "MYSQL_DATABASE"
      )
    case Code.databaseAccessDenied:
      return .misconfigured(
        "user '\(configuration.user)' may not use database '\(configuration.database)': grant it "
          + "(GRANT ALL ON \(configuration.database).* TO '\(configuration.user)'@...) or set mysql.database"
      )
    case Code.tableAccessDenied:
      return .misconfigured(
        "\(operation): user '\(configuration.user)' lacks a privilege on a table of '\(configuration.database)' "
          + "(\(message)): grant it"
      )
    case Code.tlsFailed:
      return .misconfigured(
        "TLS to MySQL at \(at) failed (\(message)): check mysql.tls.mode / mysql.tls.ca and the server's TLS setup")
    case Code.duplicateKey:
      // The server's message quotes the key value; it stays out of ours.
      return .duplicate("\(operation): a row with the same unique key already exists")
    case Code.lockWaitTimeout, Code.deadlock:
      return .unavailable("\(operation): \(message); another sidecar holds the same rows, retry")
    case Code.nodeNotReady:
      return .unavailable(
        "\(operation): the cluster node at \(at) is not ready (\(message)); connections move to another of mysql.hosts")
    case _ where Code.unreachable.contains(code):
      return .unavailable(
        "cannot reach MySQL at \(at): \(message); check mysql.host / mysql.port and that the server is running"
      )
    case _ where endsConnection:
      return .unavailable(
        "\(operation): lost the connection to MySQL at \(at) (\(message)); it is reopened on the next call"
      )
    default:
      return .failed("\(operation): MySQL error \(code): \(message)")
    }
  }
}
