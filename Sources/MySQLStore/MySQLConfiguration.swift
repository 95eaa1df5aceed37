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
  /// `mysql.hosts`: the nodes of a cluster (or primary and replicas behind failover), tried in order; when
  /// non-empty it replaces `host`/`port`. A connection goes to the first node that answers and is ready, and
  /// after a node is lost later connections go to the next one that answers.
  public var hosts: [MySQLEndpoint] = []
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

  /// Where connections go, in the order they are tried.
  var endpoints: [MySQLEndpoint] { hosts.isEmpty ? [MySQLEndpoint(host: host, port: port)] : hosts }

  /// Where we connect, as operators write it in messages: `host:port`, every node of `hosts`, or the socket path.
  var endpointDescription: String {
    if let unixSocket { return unixSocket }
    return endpoints.map(\.description).joined(separator: ", ")
  }

  /// `endpoint` as messages name it (the socket path when there is one).
  func describe(_ endpoint: MySQLEndpoint) -> String {
    unixSocket ?? endpoint.description
  }

  func validate() throws {
    for endpoint in endpoints where !(1...65_535).contains(endpoint.port) {
      throw StoreError.misconfigured("MySQL port \(endpoint.port) of \(endpoint.host) is not a TCP port: use 1-65535")
    }
    guard hosts.isEmpty || unixSocket == nil else {
      throw StoreError.misconfigured("mysql.hosts and mysql.unixSocket exclude each other: set one")
    }
    guard connectionLimit >= 1 else {
      throw StoreError.misconfigured("mysql.connectionLimit \(connectionLimit) must be at least 1")
    }
  }
}

/// One server of `MySQLConfiguration.hosts`: `host:port`, or `[v6]:port` for an IPv6 literal.
public struct MySQLEndpoint: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
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
        "refreshTokenTable": refreshTokenTable, "unixSocket": unixSocket as Any, "hosts": hosts,
      ]
    )
  }
}
