import Foundation
import Logging
import SessionStorage
import TestSupport
import Testing

@testable import MySQLStore

// The database fixture is TestSupport's (TestMySQLServer, TestDatabase); this adds what only the store's own
// tests may do: queries on the store's tables with the store's internal types.

extension TestDatabase {
  /// Runs a query in this database on a connection of its own; values are bound as in the store.
  func select(_ sql: String, _ parameters: [MySQLValue] = []) throws -> [MySQLRow] {
    try MariaDBConnection(
      configuration: server.configuration(database: name), endpoint: MySQLEndpoint(host: server.host, port: server.port),
      logger: Self.logger)
      .select(sql, parameters, operation: "test query")
  }
}

typealias MySQLTestServer = TestMySQLServer
