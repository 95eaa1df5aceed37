import SessionStorage

/// Where the MySQL (or MariaDB) source of truth is, and which tables in it hold this sidecar's data.
public struct MySQLConfiguration: Sendable {
  public var host: String
  public var port: Int
  public var user: String
  public var password: String
  public var database: String
  /// The most connections the store keeps open at once; calls beyond it wait for a free one.
  public var connectionLimit: Int
  public var signingKeyTable: String
  /// The sessions table; the revocation log, job runs and schema version live in tables named after it.
  public var refreshTokenTable: String
  /// When set, connect through this Unix socket instead of TCP to `host`:`port`.
  public var unixSocket: String?
  /// Transport security to the server: private keys, token family keys and refresh-token hashes cross it.
  public var tls: MySQLTLS = .disabled

  public init(
    host: String = "127.0.0.1", port: Int = 3306, user: String, password: String, database: String,
    connectionLimit: Int = 10, signingKeyTable: String = "signing_key", refreshTokenTable: String = "refresh_token",
    unixSocket: String? = nil
  ) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.database = database
    self.connectionLimit = connectionLimit
    self.signingKeyTable = signingKeyTable
    self.refreshTokenTable = refreshTokenTable
    self.unixSocket = unixSocket
  }

  /// Where we connect, as operators write it in messages: `host:port` or the socket path.
  var endpointDescription: String {
    if let unixSocket { return unixSocket }
    return "\(host):\(port)"
  }

  func validate() throws {
    guard (1...65_535).contains(port) else {
      throw StoreError.misconfigured("mysql.port \(port) is not a TCP port: use 1-65535")
    }
    guard connectionLimit >= 1 else {
      throw StoreError.misconfigured("mysql.connectionLimit \(connectionLimit) must be at least 1")
    }
  }
}

/// TLS to the MySQL server (`mysql.tls.mode`, `mysql.tls.ca`).
public enum MySQLTLS: Sendable, Equatable {
  /// Plain TCP (or a Unix socket on the same host).
  case disabled
  /// TLS or no connection; the server certificate is not checked (it protects against eavesdropping only).
  case required
  /// TLS with the server certificate checked against `caFile` (or the system's CAs) and the host name.
  case verifyIdentity(caFile: String?)
}

// The password must not reach a log line through `"\(config)"` or `dump(config)`.
extension MySQLConfiguration: CustomStringConvertible, CustomReflectable {
  public var description: String {
    "MySQLConfiguration(\(user)@\(endpointDescription)/\(database), connectionLimit: \(connectionLimit), "
      + "tables: \(refreshTokenTable), \(signingKeyTable), password: <redacted>)"
  }

  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "host": host, "port": port, "user": user, "password": "<redacted>", "database": database,
        "connectionLimit": connectionLimit, "signingKeyTable": signingKeyTable,
        "refreshTokenTable": refreshTokenTable, "unixSocket": unixSocket as Any,
      ]
    )
  }
}
