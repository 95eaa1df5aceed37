import SessionCore
import SessionStorage
import Testing

@Suite("SessionService theft and revocation")
struct TheftAndRevocationTests {
  @Test func reuseAfterGraceIsTheftAndRevokesTheSession() async throws {
    let h = try await SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let created = try await h.create(userID: "victim")
    let rotated = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    h.clock.advance(byMs: 30_001)
    let outcome = try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
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
    guard case .unauthorised = try await h.service.refreshSession(refreshToken: newRefresh.token, antiCsrfToken: "")
    else {
      Issue.record("the revoked session's current token must be refused")
      return
    }
  }

  @Test func olderGenuineTokenIsTheftEvenInsideGrace() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let second = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let secondToken = try #require(second.refreshToken).token
    _ = try #require(refreshed(try await h.service.refreshSession(refreshToken: secondToken, antiCsrfToken: "")))
    #expect(
      try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
        == .tokenTheftDetected(sessionHandle: created.handle, userID: "user-1"))
  }

  @Test func withoutBlacklistingARevokedSessionsTokenStillVerifiesUntilItExpires() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    #expect(try await h.service.revokeSessions(handles: [created.handle]) == [created.handle])
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    #expect(try await h.service.sessionIsLive(handle: created.handle) == false)
  }

  @Test func forgedRefreshTokenForARealSessionRevokesNothing() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let forged = RefreshToken.issue(sessionHandle: created.handle, familyKey: [UInt8](repeating: 7, count: 32))
    #expect(
      try await h.service.refreshSession(refreshToken: forged.text, antiCsrfToken: "")
        == .unauthorised(reason: "invalid refresh token"))
    #expect(try h.store.session(handle: created.handle) != nil)
    #expect(!h.service.revocations.contains(created.handle))
  }

  @Test func revokeByHandlesReturnsExactlyTheHandlesThatExisted() async throws {
    let h = try await SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let sessions = try await asyncMap(0..<3) { _ in try await h.create(userID: "alice") }
    let unknown = RandomIdentifier.uuid()
    let revoked = try await h.service.revokeSessions(handles: [sessions[0].handle, unknown, sessions[2].handle])
    #expect(revoked.sorted() == [sessions[0].handle, sessions[2].handle].sorted())
    #expect(try await h.service.listSessions(userID: "alice") == [sessions[1].handle])
    #expect(h.verify(sessions[0].accessToken) == .unauthorised(reason: "session revoked"))
    #expect(verifiedView(h.verify(sessions[1].accessToken)) != nil)
    #expect(try await h.service.revokeSessions(handles: [sessions[0].handle]) == [])
  }

  @Test func revokeByUserReturnsEveryHandleOfThatUserOnly() async throws {
    let h = try await SessionHarness()
    let alice = try await asyncMap(0..<3) { _ in try await h.create(userID: "alice") }
    let bob = try await h.create(userID: "bob")
    let revoked = try await h.service.revokeSessions(userID: "alice")
    #expect(revoked.sorted() == alice.map(\.handle).sorted())
    #expect(try await h.service.listSessions(userID: "alice") == [])
    #expect(try await h.service.listSessions(userID: "bob") == [bob.handle])
    #expect(try await h.service.revokeSessions(userID: "alice") == [])
    #expect(try await h.service.revokeSessions(userID: "nobody") == [])
  }

  @Test(arguments: ["", String(repeating: "h", count: 65)])
  func badHandleIsRefused(handle: String) async throws {
    let h = try await SessionHarness()
    await #expect(throws: SessionError.self) { try await h.service.revokeSessions(handles: [handle]) }
  }

  @Test func anotherSidecarEnforcesARevocationAfterItSynchronizes() async throws {
    let a = try await SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let b = try await a.sibling(["tokens.accessToken.blacklisting": "true"])
    let created = try await a.create()
    let other = try await a.create()
    #expect(verifiedView(b.verify(created.accessToken)) != nil)

    #expect(try await a.service.revokeSessions(handles: [created.handle]) == [created.handle])
    #expect(a.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
    #expect(try b.service.revocations.synchronize(from: b.store, nowMs: b.clock.nowMs()) == 1)
    #expect(b.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
    #expect(verifiedView(b.verify(other.accessToken)) != nil)

    // Theft detected on B reaches A the same way.
    _ = try #require(refreshed(try await b.service.refreshSession(refreshToken: other.refreshToken, antiCsrfToken: "")))
    b.clock.advance(byMs: 31_000)
    guard
      case .tokenTheftDetected = try await b.service.refreshSession(refreshToken: other.refreshToken, antiCsrfToken: "")
    else {
      Issue.record("reuse after grace must be theft")
      return
    }
    try a.service.revocations.synchronize(from: a.store, nowMs: a.clock.nowMs())
    #expect(a.verify(other.accessToken) == .unauthorised(reason: "session revoked"))
  }

  @Test func revocationsAreDroppedOnceEveryTokenHasExpired() async throws {
    let a = try await SessionHarness(["tokens.accessToken.blacklisting": "true"])
    let created = try await a.create()
    _ = try await a.service.revokeSessions(handles: [created.handle])
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

@Suite("Revocations outlive every access token of the session")
struct RevocationLifetimeTests {
  /// Tokens were issued with a one-hour validity; the validity is then configured down to one minute. A
  /// revocation must still be enforced for the hour the tokens live, not for today's minute.
  @Test func aShorterConfiguredValidityDoesNotShortenTheRevocation() async throws {
    let issuing = try await SessionHarness(["tokens.accessToken.validity": "3600"])
    let created = try await issuing.create()
    let tokenExpiry = try #require(created.issued.accessToken).expiresAtMs
    let revoking = try await issuing.sibling([
      "tokens.accessToken.validity": "60", "tokens.accessToken.blacklisting": "true",
    ])
    _ = try await revoking.service.revokeSessions(handles: [created.handle])
    let entry = try #require(try issuing.store.revocations(afterID: 0, limit: 10).first)
    #expect(entry.expiresAtMs >= tokenExpiry)
    // A sidecar syncing the log still refuses the token at its last second.
    let verifier = try await issuing.sibling(["tokens.accessToken.blacklisting": "true"])
    issuing.clock.advance(byMs: tokenExpiry - issuing.clock.nowMs() - 1)
    try verifier.service.revocations.synchronize(from: verifier.store, nowMs: verifier.clock.nowMs())
    #expect(verifier.verify(created.accessToken) == .unauthorised(reason: "session revoked"))
  }
}
