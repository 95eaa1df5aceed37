import Foundation
import Logging
import SessionStorage
import TestSupport
import Testing

@testable import MySQLStore

#if canImport(Glibc)
  import Glibc
#endif

@Suite("TLS to MySQL")
struct MySQLTLSTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func verifyIdentityConnectsToATrustedServerAndRefusesAnUntrustedOne() async throws {
    guard let server = TestDatabase.requireServer() else { return }
    let mariadb = PrivateMariaDB()
    let certs = mariadb.directory + "-certs"
    try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: certs) }
    for (name, subject) in [("server", "/CN=127.0.0.1"), ("other", "/CN=other")] {
      _ = system(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '\(subject)' -addext 'subjectAltName=IP:127.0.0.1' "
          + "-keyout '\(certs)/\(name).key' -out '\(certs)/\(name).crt' >/dev/null 2>&1")
    }
    try #require(
      FileManager.default.fileExists(atPath: "\(certs)/server.crt"),
      "the openssl command could not make a test certificate (scripts/install-deps.sh installs it)")
    try await mariadb.run("start", serverArguments: "--ssl-cert=\(certs)/server.crt --ssl-key=\(certs)/server.key")
    defer {
      _ = system(
        "SIDECAR_MYSQL_PORT=\(mariadb.port) /bin/bash '\(PrivateMariaDB.script)' stop '\(mariadb.directory)' >/dev/null 2>&1"
      )
    }

    func configuration(port: Int, tls: MySQLTLS) -> MySQLConfiguration {
      var c = MySQLConfiguration(
        host: "127.0.0.1", port: port, user: server.user, password: server.password, database: "session_sidecar")
      c.tls = tls
      return c
    }
    let logger = Logger(label: "tls-test")
    let trusted = try MySQLSessionStore.connect(
      configuration(port: mariadb.port, tls: .verifyIdentity(caFile: "\(certs)/server.crt")), logger: logger)
    #expect(try trusted.signingKeys().isEmpty)
    trusted.close()

    do {
      _ = try MySQLSessionStore.connect(
        configuration(port: mariadb.port, tls: .verifyIdentity(caFile: "\(certs)/other.crt")), logger: logger)
      Issue.record("a server whose certificate the CA did not sign was accepted")
    } catch let error as StoreError {
      #expect("\(error)".contains("TLS to MySQL"))
      #expect(!"\(error)".contains(server.password))
    }

    // The shared test server offers no TLS: `required` refuses it rather than falling back to plain text.
    do {
      _ = try MySQLSessionStore.connect(configuration(port: server.port, tls: .required), logger: logger)
      Issue.record("a server without TLS was accepted with mysql.tls.mode required")
    } catch let error as StoreError {
      #expect("\(error)".contains("TLS to MySQL"))
    }
  }
}
