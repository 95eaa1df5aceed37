import Foundation
import SessionStorage
import Synchronization
import TestSupport
import Testing

@testable import MySQLStore

@Suite("Conflicts are run again")
struct ConflictRetryTests {
  @Test(
    "work chosen as a deadlock's victim (1213, what Galera answers to a lost certification) is run again and succeeds",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func deadlockVictimIsRetried() async throws {
    try await TestDatabase.with { (database: TestDatabase) in
      let store = try database.connect(connectionLimit: 1)
      for handle in ["a", "b", "c", "d"] { try store.insertSession(TestRecords.session(handle)) }
      let other = try MariaDBConnection(
        configuration: database.configuration,
        endpoint: MySQLEndpoint(host: database.server.host, port: database.server.port), logger: TestDatabase.logger)
      let attempts = Mutex(0)
      let poolHoldsA = DispatchSemaphore(value: 0)
      let otherHoldsB = DispatchSemaphore(value: 0)
      let outcome = Mutex<Result<Void, any Error>?>(nil)

      // The pool's work: lock a, then b. The other connection: lock b (after changing c and d, so that InnoDB
      // picks the pool's lighter transaction as the victim), then a.
      let worker = Thread {
        outcome.withLock {
          $0 = Result {
            try store.pool.withConnection { connection in
              try connection.transaction(operation: "test") {
                let attempt = attempts.withLock { count in
                  count += 1
                  return count
                }
                _ = try connection.select(
                  "SELECT handle FROM refresh_token WHERE handle = 'a' FOR UPDATE", [], operation: "test")
                if attempt == 1 {
                  poolHoldsA.signal()
                  otherHoldsB.wait()
                }
                _ = try connection.select(
                  "SELECT handle FROM refresh_token WHERE handle = 'b' FOR UPDATE", [], operation: "test")
              }
            }
          }
        }
      }
      worker.start()
      poolHoldsA.wait()
      try other.run("START TRANSACTION", operation: "test")
      try other.execute(
        "UPDATE refresh_token SET session_data_json = 'x' WHERE handle IN ('c', 'd')", [], operation: "test")
      _ = try other.select("SELECT handle FROM refresh_token WHERE handle = 'b' FOR UPDATE", [], operation: "test")
      otherHoldsB.signal()
      // Blocks on a until InnoDB detects the cycle and rolls the pool's transaction back.
      _ = try other.select("SELECT handle FROM refresh_token WHERE handle = 'a' FOR UPDATE", [], operation: "test")
      try other.run("COMMIT", operation: "test")
      while outcome.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.01) }

      #expect(throws: Never.self) { try outcome.withLock { $0 }?.get() }
      #expect(attempts.withLock { $0 } == 2, "the victim's work ran again once")
    }
  }
}
