import Foundation
import SessionStorage
import TestSupport
import Testing

@testable import MySQLStore

@Suite("Sessions")
struct SessionTests {

  struct DecisionFailed: Error, Equatable {}

  @Test(
    "an error thrown by decide propagates unchanged and rolls back, releasing the row lock",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func throwingDecideRollsBack() async throws {
    try await TestDatabase.with { database in
      let first = try database.connect(connectionLimit: 1)
      let second = try database.connect(connectionLimit: 1)
      try first.insertSession(TestRecords.session("h1"))
      #expect(throws: DecisionFailed()) {
        try first.updateSession(handle: "h1") { _, _ -> (SessionChange, Void) in throw DecisionFailed() }
      }
      // Had the transaction stayed open, `first`'s idle connection would still hold the row lock and this
      // would wait out the lock timeout and fail.
      let started = ContinuousClock.now
      try second.updateSession(handle: "h1") { current, _ in
        var changed = try #require(current)
        changed.sessionDataJSON = "changed"
        return (SessionChange.replace(changed), ())
      }
      #expect(ContinuousClock.now - started < .seconds(3))
      #expect(try first.session(handle: "h1")?.sessionDataJSON == "changed")
      // The connection that rolled back is still usable.
      try first.updateSession(handle: "h1") { _, _ in (SessionChange.keep, ()) }
    }
  }

  @Test(
    "updateSession hands decide the database's clock with the locked row (and none when there is no row)",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func decideGetsTheDatabaseClock() async throws {
    try await TestDatabase.with { database in
      let store = try database.connect()
      try store.insertSession(TestRecords.session("h1"))
      let seen = try store.updateSession(handle: "h1") { _, storeNow in (SessionChange.keep, storeNow) }
      let databaseNow = try database.select("SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)").first?.int(0)
      let (read, now) = (try #require(seen), try #require(databaseNow))
      // The same server's clock a moment later: not later than now, and not minutes earlier.
      #expect(read <= now && now - read < 60_000, "store time \(read), database now \(now)")
      let missing = try store.updateSession(handle: "nope") { _, storeNow in (SessionChange.keep, storeNow) }
      #expect(missing == nil)
    }
  }

  @Test(
    "concurrent read-modify-write through updateSession loses no update",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func concurrentUpdatesAreSerialised() async throws {
    try await TestDatabase.with { database in
      // Two stores: two sidecars sharing the database. More threads than connections: checkout blocks too.
      let stores = [try database.connect(connectionLimit: 3), try database.connect(connectionLimit: 3)]
      try stores[0].insertSession(TestRecords.session("counter", data: "0"))
      let threads = 8
      let incrementsPerThread = 20
      let failures = Failures()
      runOnThreads(threads) { index in
        let store = stores[index % stores.count]
        for _ in 0..<incrementsPerThread {
          do {
            try store.updateSession(handle: "counter") { current, _ in
              var session = current!
              let value = Int(session.sessionDataJSON)!
              usleep(500)  // widen the read-modify-write window: without the row lock updates would be lost
              session.sessionDataJSON = String(value + 1)
              return (SessionChange.replace(session), ())
            }
          } catch {
            failures.append("\(error)")
          }
        }
      }
      #expect(failures.all.isEmpty)
      #expect(try stores[1].session(handle: "counter")?.sessionDataJSON == String(threads * incrementsPerThread))
    }
  }

}

/// Error texts collected from many threads.
final class Failures: @unchecked Sendable {
  private let lock = NSLock()
  private var texts: [String] = []

  func append(_ text: String) { lock.withLock { texts.append(text) } }
  var all: [String] { lock.withLock { texts } }
}

/// Runs `body(index)` on `count` real threads at once and waits for all of them: the store's methods block,
/// so this is how concurrent callers (many sidecar worker threads) look.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
  let group = DispatchGroup()
  for index in 0..<count {
    group.enter()
    let thread = Thread {
      body(index)
      group.leave()
    }
    thread.start()
  }
  group.wait()
}
