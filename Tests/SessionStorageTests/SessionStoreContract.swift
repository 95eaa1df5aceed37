import SessionStorage
import TestSupport
import Testing

/// What every `SessionStore` must do, whatever holds the data. Run against the in-memory store (no database
/// needed) and against MySQL (StoreContractTests.swift), so the two cannot drift apart.
enum SessionStoreContract {
  struct Check: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (any SessionStore) throws -> Void
    var testDescription: String { name }
  }

  static let checks: [Check] = [
    Check(name: "a session reads back exactly as inserted, long values and NULLs included") { store in
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
    },
    Check(name: "live session handles exclude expired sessions and other users") { store in
      try store.insertSession(TestRecords.session("a-live-2", user: "alice", createdAtMs: 2, expiresAtMs: 500))
      try store.insertSession(TestRecords.session("a-live-1", user: "alice", createdAtMs: 1, expiresAtMs: 101))
      // Expiring at exactly `now` is expired, as for GetSession and RefreshSession.
      try store.insertSession(TestRecords.session("a-boundary", user: "alice", createdAtMs: 0, expiresAtMs: 100))
      try store.insertSession(TestRecords.session("a-expired", user: "alice", createdAtMs: 0, expiresAtMs: 99))
      try store.insertSession(TestRecords.session("b-live", user: "Alice", expiresAtMs: 500))
      #expect(try store.liveSessionHandles(userID: "alice", nowMs: 100) == ["a-live-1", "a-live-2"])
      #expect(try store.liveSessionHandles(userID: "Alice", nowMs: 100) == ["b-live"])
      #expect(try store.liveSessionHandles(userID: "nobody", nowMs: 100) == [])
    },
    Check(name: "updateSession keeps, replaces and revokes") { store in
      let original = TestRecords.session("h1")
      try store.insertSession(original)

      let kept = try store.updateSession(handle: "h1") { current, _ in (SessionChange.keep, current?.handle) }
      #expect(kept == "h1")
      #expect(try store.session(handle: "h1") == original)

      var rotated = original
      rotated.previousRefreshTokenHash2 = original.refreshTokenHash2
      rotated.refreshTokenHash2 = String(repeating: "ef", count: 32)
      rotated.rotatedAtMs = 2_000
      rotated.expiresAtMs = 20_000
      let replaced = try store.updateSession(handle: "h1") { _, _ in (SessionChange.replace(rotated), 1) }
      #expect(replaced == 1)
      #expect(try store.session(handle: "h1") == rotated)

      try store.updateSession(handle: "h1") { _, _ in
        (SessionChange.revoke(nowMs: 3_000, revocationExpiresAtMs: 9_000), ())
      }
      #expect(try store.session(handle: "h1") == nil)
      let log = try store.revocations(afterID: 0, limit: 10)
      #expect(log.map(\.sessionHandle) == ["h1"])
      #expect(log.first.map { [$0.revokedAtMs, $0.expiresAtMs] } == [3_000, 9_000])

      let sawNil = try store.updateSession(handle: "missing") { current, _ in (SessionChange.keep, current == nil) }
      #expect(sawNil)
    },
    Check(name: "revoking by handles returns exactly the handles that existed and logs them") { store in
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
    },
    Check(name: "revoking by user revokes all of that user's sessions; the log pages by id") { store in
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
    },
    Check(name: "expired sessions and revocations are deleted in batches of at most the limit") { store in
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
    },
    Check(name: "the oldest expired sessions go first") { store in
      try store.insertSession(TestRecords.session("newer", expiresAtMs: 300))
      try store.insertSession(TestRecords.session("older", expiresAtMs: 100))
      #expect(try store.deleteExpiredSessions(nowMs: 500, limit: 1) == 1)
      #expect(try store.session(handle: "older") == nil)
      #expect(try store.session(handle: "newer") != nil)
    },
    Check(name: "signing keys: insert, one key per slot and kid, oldest slot first, expired ones deleted") { store in
      let dynamicLate = TestRecords.key("d-3000", slotStartMs: 3_000, expiresAtMs: 50_000)
      let staticKey = TestRecords.key("s-1", kind: .static, slotStartMs: 0, expiresAtMs: .max)
      let dynamicEarly = TestRecords.key("d-1000", slotStartMs: 1_000, expiresAtMs: 5_000)
      for key in [dynamicLate, staticKey, dynamicEarly] { try store.insertSigningKey(key) }
      #expect(try store.signingKeys() == [staticKey, dynamicEarly, dynamicLate])

      #expect {
        try store.insertSigningKey(TestRecords.key("d-other", slotStartMs: 1_000))
      } throws: { error in
        guard case StoreError.duplicate = error else { return false }
        return true
      }
      #expect {
        try store.insertSigningKey(TestRecords.key("d-1000", slotStartMs: 9_000))
      } throws: { error in
        guard case StoreError.duplicate = error else { return false }
        return true
      }

      #expect(try store.deleteExpiredSigningKeys(nowMs: 10_000) == 1)
      #expect(try store.signingKeys() == [staticKey, dynamicLate])
      #expect(try store.deleteExpiredSigningKeys(nowMs: 10_000) == 0)
    },
    Check(name: "a revocation lives until the session's last access token expires, at least") { store in
      var long = TestRecords.session("long")
      long.lastAccessTokenExpiresAtMs = 50_000
      try store.insertSession(long)
      try store.insertSession(TestRecords.session("unrecorded"))
      var viaUpdate = TestRecords.session("via-update")
      viaUpdate.lastAccessTokenExpiresAtMs = 70_000
      try store.insertSession(viaUpdate)
      _ = try store.revokeSessions(handles: ["long", "unrecorded"], nowMs: 100, revocationExpiresAtMs: 9_000)
      try store.updateSession(handle: "via-update") { _, _ in
        (SessionChange.revoke(nowMs: 100, revocationExpiresAtMs: 9_000), ())
      }
      let log = Dictionary(
        uniqueKeysWithValues: try store.revocations(afterID: 0, limit: 10).map { ($0.sessionHandle, $0.expiresAtMs) })
      #expect(log["long"] == 50_000 + SessionRecord.revocationMarginMs)
      #expect(log["unrecorded"] == 9_000)
      #expect(log["via-update"] == 70_000 + SessionRecord.revocationMarginMs)
    },
  ]
}
