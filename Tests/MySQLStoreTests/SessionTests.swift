import Foundation
import SessionStorage
import Testing

@testable import MySQLStore

@Suite("Sessions")
struct SessionTests {
  @Test("a session reads back exactly as inserted, long values and NULLs included")
  func insertAndRead() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      var full = TestRecords.session("h-full", data: "{\"blob\":\"\(String(repeating: "x", count: 100_000))\"}")
      full.previousRefreshTokenHash2 = String(repeating: "cd", count: 32)
      full.rotatedAtMs = 5_000
      full.antiCsrfToken = "csrf-token"
      full.useStaticKey = true
      full.tokenFamilyKey = Array(repeating: 0xFF, count: 200) + [0, 0]
      let sparse = TestRecords.session("h-sparse", data: "")
      try store.insertSession(full)
      try store.insertSession(sparse)
      #expect(try store.session(handle: "h-full") == full)
      #expect(try store.session(handle: "h-sparse") == sparse)
      #expect(try store.session(handle: "missing") == nil)
      #expect(throws: StoreError.self) { try store.insertSession(sparse) }
    }
  }

  @Test("live session handles exclude expired sessions and other users")
  func liveHandles() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      try store.insertSession(TestRecords.session("a-live-2", user: "alice", createdAtMs: 2, expiresAtMs: 500))
      try store.insertSession(TestRecords.session("a-live-1", user: "alice", createdAtMs: 1, expiresAtMs: 101))
      // Expiring at exactly `now` is expired, as for GetSession and RefreshSession.
      try store.insertSession(TestRecords.session("a-boundary", user: "alice", createdAtMs: 0, expiresAtMs: 100))
      try store.insertSession(TestRecords.session("a-expired", user: "alice", createdAtMs: 0, expiresAtMs: 99))
      try store.insertSession(TestRecords.session("b-live", user: "Alice", expiresAtMs: 500))
      #expect(try store.liveSessionHandles(userID: "alice", nowMs: 100) == ["a-live-1", "a-live-2"])
      #expect(try store.liveSessionHandles(userID: "Alice", nowMs: 100) == ["b-live"])
      #expect(try store.liveSessionHandles(userID: "nobody", nowMs: 100) == [])
    }
  }

  @Test("updateSession keeps, replaces and revokes")
  func updateSessionChanges() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      let original = TestRecords.session("h1")
      try store.insertSession(original)

      let kept = try store.updateSession(handle: "h1") { current in (SessionChange.keep, current?.handle) }
      #expect(kept == "h1")
      #expect(try store.session(handle: "h1") == original)

      var rotated = original
      rotated.previousRefreshTokenHash2 = original.refreshTokenHash2
      rotated.refreshTokenHash2 = String(repeating: "ef", count: 32)
      rotated.rotatedAtMs = 2_000
      rotated.expiresAtMs = 20_000
      let replaced = try store.updateSession(handle: "h1") { _ in (SessionChange.replace(rotated), 1) }
      #expect(replaced == 1)
      #expect(try store.session(handle: "h1") == rotated)

      try store.updateSession(handle: "h1") { _ in
        (SessionChange.revoke(nowMs: 3_000, revocationExpiresAtMs: 9_000), ())
      }
      #expect(try store.session(handle: "h1") == nil)
      let log = try store.revocations(afterID: 0, limit: 10)
      #expect(log.map(\.sessionHandle) == ["h1"])
      #expect(log.first.map { [$0.revokedAtMs, $0.expiresAtMs] } == [3_000, 9_000])

      let sawNil = try store.updateSession(handle: "missing") { current in (SessionChange.keep, current == nil) }
      #expect(sawNil)
    }
  }

  struct DecisionFailed: Error, Equatable {}

  @Test("an error thrown by decide propagates unchanged and rolls back, releasing the row lock")
  func throwingDecideRollsBack() throws {
    try TestDatabase.with { database in
      let first = try database.connect(connectionLimit: 1)
      let second = try database.connect(connectionLimit: 1)
      try first.insertSession(TestRecords.session("h1"))
      #expect(throws: DecisionFailed()) {
        try first.updateSession(handle: "h1") { _ -> (SessionChange, Void) in throw DecisionFailed() }
      }
      // Had the transaction stayed open, `first`'s idle connection would still hold the row lock and this
      // would wait out the lock timeout and fail.
      let started = ContinuousClock.now
      try second.updateSession(handle: "h1") { current in
        var changed = try #require(current)
        changed.sessionDataJSON = "changed"
        return (SessionChange.replace(changed), ())
      }
      #expect(ContinuousClock.now - started < .seconds(3))
      #expect(try first.session(handle: "h1")?.sessionDataJSON == "changed")
      // The connection that rolled back is still usable.
      try first.updateSession(handle: "h1") { _ in (SessionChange.keep, ()) }
    }
  }

  @Test("concurrent read-modify-write through updateSession loses no update")
  func concurrentUpdatesAreSerialised() throws {
    try TestDatabase.with { database in
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
            try store.updateSession(handle: "counter") { current in
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

  @Test("revoking by handles returns exactly the handles that existed and logs them")
  func revokeByHandles() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      for handle in ["h1", "h2", "h3"] { try store.insertSession(TestRecords.session(handle)) }
      let revoked = try store.revokeSessions(
        handles: ["h3", "missing", "h1", "h3"], nowMs: 100, revocationExpiresAtMs: 900
      )
      #expect(revoked == ["h3", "h1"])
      #expect(try store.session(handle: "h1") == nil)
      #expect(try store.session(handle: "h2") != nil)
      #expect(Set(try store.revocations(afterID: 0, limit: 10).map(\.sessionHandle)) == ["h1", "h3"])
      #expect(try store.revokeSessions(handles: [], nowMs: 100, revocationExpiresAtMs: 900) == [])
      #expect(try store.revokeSessions(handles: ["h1"], nowMs: 100, revocationExpiresAtMs: 900) == [])
    }
  }

  @Test("revoking by user revokes all of that user's sessions; the log pages by id")
  func revokeByUserAndPageTheLog() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      try store.insertSession(TestRecords.session("a1", user: "alice", createdAtMs: 1))
      try store.insertSession(TestRecords.session("a2", user: "alice", createdAtMs: 2, expiresAtMs: 1))
      try store.insertSession(TestRecords.session("b1", user: "bob"))
      #expect(try store.revokeSessions(userID: "alice", nowMs: 10, revocationExpiresAtMs: 20) == ["a1", "a2"])
      #expect(try store.revokeSessions(userID: "alice", nowMs: 10, revocationExpiresAtMs: 20) == [])
      #expect(try store.revokeSessions(userID: "bob", nowMs: 11, revocationExpiresAtMs: 21) == ["b1"])

      let log = try store.revocations(afterID: 0, limit: 100)
      #expect(log.map(\.sessionHandle) == ["a1", "a2", "b1"])
      #expect(log.map(\.id) == log.map(\.id).sorted())
      #expect(Set(log.map(\.id)).count == 3)
      #expect(log.last.map { [$0.revokedAtMs, $0.expiresAtMs] } == [11, 21])

      let firstPage = try store.revocations(afterID: 0, limit: 2)
      #expect(firstPage == Array(log.prefix(2)))
      let secondPage = try store.revocations(afterID: firstPage.last!.id, limit: 2)
      #expect(secondPage == [log[2]])
      #expect(try store.revocations(afterID: log[2].id, limit: 2) == [])
    }
  }

  @Test("expired sessions and revocations are deleted in batches of at most the limit")
  func deleteExpiredInBatches() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      for index in 0..<5 {
        try store.insertSession(TestRecords.session("old\(index)", expiresAtMs: Int64(100 + index)))
      }
      try store.insertSession(TestRecords.session("live", expiresAtMs: 1_000))
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 2) == 2)
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 2) == 2)
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 2) == 1)
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 2) == 0)
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 0) == 0)
      #expect(try store.session(handle: "live") != nil)
      // Oldest first: the first batch took the two that expired earliest.

      _ = try store.revokeSessions(handles: ["live"], nowMs: 1, revocationExpiresAtMs: 50)
      for index in 0..<3 { try store.insertSession(TestRecords.session("r\(index)")) }
      _ = try store.revokeSessions(handles: ["r0", "r1", "r2"], nowMs: 1, revocationExpiresAtMs: 5_000)
      #expect(try store.deleteExpiredRevocations(nowMs: 100, limit: 2) == 1)
      #expect(try store.revocations(afterID: 0, limit: 10).count == 3)
      #expect(try store.deleteExpiredRevocations(nowMs: 6_000, limit: 2) == 2)
      #expect(try store.deleteExpiredRevocations(nowMs: 6_000, limit: 2) == 1)
      #expect(try store.revocations(afterID: 0, limit: 10).isEmpty)
    }
  }

  @Test("the oldest expired sessions go first")
  func deleteExpiredOldestFirst() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      try store.insertSession(TestRecords.session("newer", expiresAtMs: 300))
      try store.insertSession(TestRecords.session("older", expiresAtMs: 100))
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 1) == 1)
      #expect(try store.session(handle: "older") == nil)
      #expect(try store.session(handle: "newer") != nil)
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
