import SessionCore
import SessionStorage
import Testing

@Suite("SessionService theft and revocation")
struct TheftAndRevocationTests {
  @Test func reuseAfterGraceIsTheftAndRevokesTheSession() throws {
    let h = try SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let created = try h.create(userID: "victim")
    let rotated = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    h.clock.advance(byMs: 30_001)
    let outcome = try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
    #expect(outcome == .tokenTheftDetected(sessionHandle: created.handle, userID: "victim"))
    #expect(try h.store.session(handle: created.handle) == nil)
    #expect(h.service.revocations.contains(created.handle))
    #expect(try h.store.revocations(afterID: 0, limit: 10).map(\.sessionHandle) == [created.handle])
    // The access token has not expired, but blacklisting refuses it at once.
    #expect(h.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
    let newAccess = try #require(rotated.accessToken)
    #expect(h.verify(newAccess.token) == .unauthorised(reason: "session revoked"))
    // The thief's (or victim's) newest token no longer works either.
    let newRefresh = try #require(rotated.refreshToken)
    guard case .unauthorised = try h.service.refreshSession(refreshToken: newRefresh.token, antiCsrfToken: "") else {
      Issue.record("the revoked session's current token must be refused")
      return
    }
  }

  @Test func olderGenuineTokenIsTheftEvenInsideGrace() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let second = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let secondToken = try #require(second.refreshToken).token
    _ = try #require(refreshed(try h.service.refreshSession(refreshToken: secondToken, antiCsrfToken: "")))
    #expect(
      try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
        == .tokenTheftDetected(sessionHandle: created.handle, userID: "user-1"))
  }

  @Test func withoutBlacklistingARevokedSessionsTokenStillVerifiesUntilItExpires() throws {
    let h = try SessionHarness()
    let created = try h.create()
    #expect(try h.service.revokeSessions(handles: [created.handle]) == [created.handle])
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    #expect(try h.service.sessionIsLive(handle: created.handle) == false)
  }

  @Test func forgedRefreshTokenForARealSessionRevokesNothing() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let forged = RefreshToken.issue(sessionHandle: created.handle, familyKey: [UInt8](repeating: 7, count: 32))
    #expect(
      try h.service.refreshSession(refreshToken: forged.text, antiCsrfToken: "")
        == .unauthorised(reason: "invalid refresh token"))
    #expect(try h.store.session(handle: created.handle) != nil)
    #expect(!h.service.revocations.contains(created.handle))
  }

  @Test func revokeByHandlesReturnsExactlyTheHandlesThatExisted() throws {
    let h = try SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let sessions = try (0..<3).map { _ in try h.create(userID: "alice") }
    let unknown = RandomIdentifier.uuid()
    let revoked = try h.service.revokeSessions(handles: [sessions[0].handle, unknown, sessions[2].handle])
    #expect(revoked.sorted() == [sessions[0].handle, sessions[2].handle].sorted())
    #expect(try h.service.listSessions(userID: "alice") == [sessions[1].handle])
    #expect(h.verify(sessions[0].accessToken) == .unauthorised(reason: "session revoked"))
    #expect(verifiedView(h.verify(sessions[1].accessToken)) != nil)
    #expect(try h.service.revokeSessions(handles: [sessions[0].handle]) == [])
  }

  @Test func revokeByUserReturnsEveryHandleOfThatUserOnly() throws {
    let h = try SessionHarness()
    let alice = try (0..<3).map { _ in try h.create(userID: "alice") }
    let bob = try h.create(userID: "bob")
    let revoked = try h.service.revokeSessions(userID: "alice")
    #expect(revoked.sorted() == alice.map(\.handle).sorted())
    #expect(try h.service.listSessions(userID: "alice") == [])
    #expect(try h.service.listSessions(userID: "bob") == [bob.handle])
    #expect(try h.service.revokeSessions(userID: "alice") == [])
    #expect(try h.service.revokeSessions(userID: "nobody") == [])
  }

  @Test(arguments: ["", String(repeating: "h", count: 65)])
  func badHandleIsRefused(handle: String) throws {
    let h = try SessionHarness()
    #expect(throws: SessionError.self) { try h.service.revokeSessions(handles: [handle]) }
  }

  @Test func anotherSidecarEnforcesARevocationAfterItSynchronizes() throws {
    let a = try SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let b = try a.sibling(["tokens.accessToken.blacklisting": "true"])
    let created = try a.create()
    let other = try a.create()
    #expect(verifiedView(b.verify(created.accessToken)) != nil)

    #expect(try a.service.revokeSessions(handles: [created.handle]) == [created.handle])
    #expect(a.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
    #expect(try b.service.revocations.synchronize(from: b.store, nowMs: b.clock.nowMs()) == 1)
    #expect(b.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
    #expect(verifiedView(b.verify(other.accessToken)) != nil)

    // Theft detected on B reaches A the same way.
    _ = try #require(refreshed(try b.service.refreshSession(refreshToken: other.refreshToken, antiCsrfToken: "")))
    b.clock.advance(byMs: 31_000)
    guard case .tokenTheftDetected = try b.service.refreshSession(refreshToken: other.refreshToken, antiCsrfToken: "")
    else {
      Issue.record("reuse after grace must be theft")
      return
    }
    try a.service.revocations.synchronize(from: a.store, nowMs: a.clock.nowMs())
    #expect(a.verify(other.accessToken) == .unauthorised(reason: "session revoked"))
  }

  @Test func revocationsAreDroppedOnceEveryTokenHasExpired() throws {
    let a = try SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let created = try a.create()
    _ = try a.service.revokeSessions(handles: [created.handle])
    let entry = try #require(try a.store.revocations(afterID: 0, limit: 10).first)
    #expect(entry.expiresAtMs == a.clock.nowMs() + a.config.accessTokenValidityMs + 60_000)
    a.clock.set(nowMs: entry.expiresAtMs)
    try a.service.revocations.synchronize(from: a.store, nowMs: a.clock.nowMs())
    #expect(!a.service.revocations.contains(created.handle))
    #expect(a.service.revocations.count == 0)
  }

  @Test func revocationSetReadsTheWholeLogInBatches() throws {
    let store = InMemorySessionStore()
    let now: Int64 = 1_700_000_000_000
    var handles: [String] = []
    for _ in 0..<25 {
      let handle = RandomIdentifier.uuid()
      try store.insertSession(
        SessionRecord(
          handle: handle, userID: "u", refreshTokenHash2: "h2", tokenFamilyKey: [], sessionDataJSON: "{}",
          accessTokenPayloadJSON: "{}", antiCsrfToken: nil, useStaticKey: false, createdAtMs: now, expiresAtMs: now + 1)
      )
      handles.append(handle)
    }
    #expect(try store.revokeSessions(handles: handles, nowMs: now, revocationExpiresAtMs: now + 10_000).count == 25)
    let set = RevocationSet()
    #expect(try set.synchronize(from: store, nowMs: now, batchSize: 4) == 25)
    #expect(handles.allSatisfy { set.contains($0) })
    #expect(try set.synchronize(from: store, nowMs: now, batchSize: 4) == 0)
  }
}
