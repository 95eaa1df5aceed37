import CronSchedule
import Foundation
import Logging
import SessionCore
import SessionSidecarWire
import SidecarClient
import TestSupport
import Testing

@testable import MySQLStore

#if canImport(Glibc)
  import Glibc
#endif

/// A MariaDB of this test's own (scripts/mariadb.sh with a private directory and port), so it can be stopped
/// and started again without disturbing the other tests.
struct PrivateMariaDB {
  let directory: String
  let port: Int
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/mariadb.sh").path

  init() {
    directory = NSTemporaryDirectory() + "sidecar-outage-\(UInt32.random(in: 0...UInt32.max))"
    port = Int.random(in: 34000...36000)
  }

  /// Runs `scripts/mariadb.sh COMMAND DIR` through the shell. Foundation's Process does not notice the exit of
  /// a script that leaves a daemon behind, so this uses system(3); success is judged by what the test sees next.
  func run(_ command: String, serverArguments: String = "") async throws {
    try await onOwnThread { [self] in
      _ = system(
        "SIDECAR_MYSQL_PORT=\(port) SIDECAR_MYSQL_EXTRA_ARGS='\(serverArguments)' /bin/bash '\(Self.script)' "
          + "\(command) '\(directory)' >/dev/null 2>&1")
    }
  }
}

@Suite("A database that goes away and comes back")
struct DatabaseOutageTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func callsAnswerUnavailableThenRecoverWhileVerifyKeepsWorking() async throws {
    guard let server = TestDatabase.requireServer() else { return }
    let mariadb = PrivateMariaDB()
    try await mariadb.run("start")
    do {
      try await outage(mariadb: mariadb, server: server)
    } catch {
      try? await mariadb.run("stop")
      throw error
    }
    try? await mariadb.run("stop")
    try? FileManager.default.removeItem(atPath: mariadb.directory)
  }

  private func outage(mariadb: PrivateMariaDB, server: TestMySQLServer) async throws {
    let database = TestDatabase(
      server: TestMySQLServer(host: "127.0.0.1", port: mariadb.port, user: server.user, password: server.password),
      name: "sidecar_test_outage")
    try database.admin("CREATE DATABASE IF NOT EXISTS sidecar_test_outage")
    try await withTestSidecar(store: database) { sidecars in
      let client = try await sidecars[0].connect()
      let created = try await client.call(Call.create(user: "outage")).createSession

      try await mariadb.run("stop")
      let during = try await client.call(Call.create(user: "outage"))
      #expect(during.status.code == .unavailable)
      #expect(during.status.message.contains("database unavailable"))
      #expect(!during.status.message.contains(server.password))
      // Health reads the sidecar's own pings: unreachable once the last answer is older than the window.
      sidecars[0].clock.advance(byMs: 11_000)
      #expect(try await client.call(Call.health).health.databaseReachable == false)
      // Verification needs no database.
      #expect(try await client.call(Call.verify(created.accessToken.token)).verifySession.outcome == .ok)

      try await mariadb.run("start")
      var recovered = false
      for _ in 0..<20 where !recovered {
        recovered = try await client.call(Call.create(user: "outage")).status.code == .ok
        if !recovered { try await Task.sleep(for: .milliseconds(250)) }
      }
      #expect(recovered, "the sidecar reconnects by itself")
      #expect(try await client.call(Call.refresh(created.refreshToken.token)).refreshSession.outcome == .ok)
      await client.close()
    }
  }
}

@Suite("Cleanup of expired data in MySQL")
struct CleanupTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func expiredSessionsAreDeletedOnceAcrossSidecars() async throws {
    try await TestDatabase.with { db in
      try await withTestSidecar(2, store: db, adjust: { $0.refreshToken.validityMinutes = 60 }) {
        sidecars in
        let client = try await sidecars[0].connect()
        var handles: [String] = []
        for _ in 0..<5 { handles.append(try await client.call(Call.create(user: "old")).createSession.session.handle) }
        sidecars[0].clock.advance(byMs: 61 * 60_000)
        let fresh = try await client.call(Call.create(user: "new")).createSession.session.handle

        let logger = Logger(label: "cleanup-test")
        let schedule = try CronExpression(parsing: "0 0 0 1-31/7 * *")
        let now = sidecars[0].clock.nowMs()
        let first = ExpiredDataCleanup(
          schedule: schedule, database: try await db.open(), logger: logger, batchSize: 2)
        let second = ExpiredDataCleanup(
          schedule: schedule, database: try await db.open(), logger: logger, batchSize: 2)
        let report = try #require(try await first.run(scheduledAtMs: 42, nowMs: now, claimant: "a"))
        #expect(report.sessions == 5)
        #expect(try await second.run(scheduledAtMs: 42, nowMs: now, claimant: "b") == nil, "the run was claimed once")

        let store = try db.connect()
        for handle in handles { #expect(try store.session(handle: handle) == nil) }
        #expect(try store.session(handle: fresh) != nil)
        await client.close()
      }
    }
  }
}
