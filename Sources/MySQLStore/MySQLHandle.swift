internal import CMariaDB

/// `mysql_library_init`, run once for the process before the first connection (Swift runs a global's
/// initialiser exactly once, thread-safely); `mysql_init` would otherwise do it without a lock.
private let libraryInitResult: Int32 = mysql_server_init(0, nil, nil)

/// Owns one `MYSQL` connection object: made in `init`, closed in `deinit`. Statements keep a reference to the
/// handle they were prepared on, so it is closed only after the last of them.
final class MySQLHandle {
  let pointer: UnsafeMutablePointer<MYSQL>

  /// Makes an unconnected handle with the timeouts and character set every connection of the store uses.
  init() throws {
    guard libraryInitResult == 0 else {
      throw MariaDBError(code: 2000, message: "mysql_library_init failed")
    }
    // Connector/C 3 keeps no per-thread state, but the API asks for this on every thread that uses it.
    _ = mysql_thread_init()
    guard let pointer = mysql_init(nil) else {
      throw MariaDBError(code: 2008, message: "mysql_init: out of memory")
    }
    self.pointer = pointer
    // A dead server must fail a call within seconds, never hang it.
    try setOption(MYSQL_OPT_CONNECT_TIMEOUT, UInt32(3))
    try setOption(MYSQL_OPT_READ_TIMEOUT, UInt32(10))
    try setOption(MYSQL_OPT_WRITE_TIMEOUT, UInt32(10))
    // Never reconnect silently: that would lose a transaction half way. The pool reopens broken connections.
    try setOption(MYSQL_OPT_RECONNECT, CChar(0))
    guard mysql_options(pointer, MYSQL_SET_CHARSET_NAME, "utf8mb4") == 0 else { throw lastError() }
  }

  deinit {
    mysql_close(pointer)
  }

  private func setOption<Value: BitwiseCopyable>(_ option: mysql_option, _ value: Value) throws {
    let status = withUnsafePointer(to: value) { mysql_options(pointer, option, $0) }
    guard status == 0 else { throw lastError() }
  }

  func connect(_ configuration: MySQLConfiguration, to endpoint: MySQLEndpoint) throws {
    switch configuration.tls {
    case .disabled:
      break
    case .required:
      try setOption(MYSQL_OPT_SSL_ENFORCE, CChar(1))
    case .verifyIdentity(let caFile):
      try setOption(MYSQL_OPT_SSL_ENFORCE, CChar(1))
      try setOption(MYSQL_OPT_SSL_VERIFY_SERVER_CERT, CChar(1))
      if let caFile {
        guard mysql_options(pointer, MYSQL_OPT_SSL_CA, caFile) == 0 else { throw lastError() }
      }
    }
    let host = configuration.unixSocket == nil ? endpoint.host : "localhost"
    let connected = mysql_real_connect(
      pointer, host, configuration.user, configuration.password, configuration.database,
      UInt32(endpoint.port), configuration.unixSocket, 0
    )
    guard connected != nil else { throw lastError() }
    // Connector/C 3.3 falls back to plain text when the server offers no TLS, even with SSL_ENFORCE set:
    // check the session itself.
    if configuration.tls != .disabled && mysql_get_ssl_cipher(pointer) == nil {
      throw MariaDBError(
        code: MariaDBError.Code.tlsFailed, message: "the server offered no TLS (have_ssl is not YES)")
    }
  }

  /// Runs SQL that takes no parameters (DDL, SET, START TRANSACTION); discards any result.
  func query(_ sql: String) throws {
    let status = sql.withCString { mysql_real_query(pointer, $0, UInt(sql.utf8.count)) }
    guard status == 0 else { throw lastError() }
    if mysql_field_count(pointer) > 0 {
      guard let result = mysql_store_result(pointer) else { throw lastError() }
      _ = ResultSet(owning: result)
    }
  }

  func rollback() throws {
    guard mysql_rollback(pointer) == 0 else { throw lastError() }
  }

  func ping() throws {
    guard mysql_ping(pointer) == 0 else { throw lastError() }
  }

  /// The server's id for this connection (what `KILL` takes and the process list shows).
  var serverConnectionID: UInt64 { UInt64(mysql_thread_id(pointer)) }

  func lastError() -> MariaDBError {
    MariaDBError(code: mysql_errno(pointer), message: String(cString: mysql_error(pointer)))
  }
}

/// Owns one `MYSQL_RES` (a stored result or a statement's result metadata) and frees it in `deinit`.
final class ResultSet {
  let pointer: UnsafeMutablePointer<MYSQL_RES>

  init(owning pointer: UnsafeMutablePointer<MYSQL_RES>) {
    self.pointer = pointer
  }

  deinit {
    mysql_free_result(pointer)
  }

  /// The type of each column, in order.
  var fieldTypes: [enum_field_types] {
    let count = Int(mysql_num_fields(pointer))
    guard count > 0, let fields = mysql_fetch_fields(pointer) else { return [] }
    return (0..<count).map { fields[$0].type }
  }
}
