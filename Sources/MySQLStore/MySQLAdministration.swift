import Logging
import SessionStorage

/// Statements outside the store's own tables (CREATE/DROP DATABASE, KILL), on a connection of their own (to the
/// first of `mysql.hosts` that answers, as the store's would be). For tests and operator tooling; never given a
/// value from a client.
public enum MySQLAdministration {
  public static func run(_ sql: String, configuration: MySQLConfiguration, logger: Logger) throws {
    let pool = ConnectionPool(configuration: configuration, logger: logger)
    defer { pool.close() }
    try pool.withConnection { try $0.run(sql, operation: "administration") }
  }
}
