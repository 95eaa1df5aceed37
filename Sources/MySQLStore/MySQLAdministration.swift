import Logging
import SessionStorage

/// Statements outside the store's own tables (CREATE/DROP DATABASE, KILL), on a connection of their own.
/// For tests and operator tooling; never given a value from a client.
public enum MySQLAdministration {
  public static func run(_ sql: String, configuration: MySQLConfiguration, logger: Logger) throws {
    try MariaDBConnection(configuration: configuration, endpoint: configuration.endpoints[0], logger: logger).run(
      sql, operation: "administration")
  }
}
