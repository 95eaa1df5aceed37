import SessionCore
import Testing

@Suite("SessionService get, list, update, regenerate")
struct SessionManagementTests {
  @Test func getReturnsTheStoredSession() throws {
    let h = try SessionHarness()
    let created = try h.create(userID: "u-1", payload: #"{"role":"admin"}"#, data: #"{"cart":[1,2]}"#)
    let session = try h.service.getSession(handle: created.handle)
    #expect(session.handle == created.handle)
    #expect(session.userID == "u-1")
    #expect(session.sessionDataJSON == #"{"cart":[1,2]}"#)
    #expect(session.accessTokenPayloadJSON == #"{"role":"admin"}"#)
    #expect(session.createdAtMs == h.clock.nowMs())
    #expect(session.expiresAtMs == h.clock.nowMs() + h.config.refreshTokenValidityMs)
  }

  @Test func getOfAnUnknownOrExpiredSessionIsNotFound() throws {
    let h = try SessionHarness(["tokens.refreshToken.validity": "1"])
    #expect(throws: SessionError.notFound("session not found or expired")) {
      try h.service.getSession(handle: RandomIdentifier.uuid())
    }
    let created = try h.create()
    h.clock.advance(byMs: 3_600_000)
    #expect(throws: SessionError.notFound("session not found or expired")) {
      try h.service.getSession(handle: created.handle)
    }
  }

  @Test func listReturnsTheUsersLiveSessions() throws {
    let h = try SessionHarness(["tokens.refreshToken.validity": "1"])
    let old = try h.create(userID: "alice")
    h.clock.advance(byMs: 1_800_000)
    let fresh = try (0..<2).map { _ in try h.create(userID: "alice") }
    _ = try h.create(userID: "bob")
    #expect(try h.service.listSessions(userID: "alice") == (fresh.map(\.handle) + [old.handle]).sorted())
    h.clock.advance(byMs: 1_800_000)
    #expect(try h.service.listSessions(userID: "alice") == fresh.map(\.handle).sorted())
    #expect(try h.service.listSessions(userID: "carol") == [])
  }

  @Test func updateSessionDataChangesOnlyTheData() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"admin"}"#, data: #"{"v":1}"#)
    try h.service.updateSessionData(handle: created.handle, sessionDataJSON: #"{"v":2}"#)
    let session = try h.service.getSession(handle: created.handle)
    #expect(session.sessionDataJSON == #"{"v":2}"#)
    #expect(session.accessTokenPayloadJSON == #"{"role":"admin"}"#)
    #expect(throws: SessionError.self) {
      try h.service.updateSessionData(handle: created.handle, sessionDataJSON: "[]")
    }
    #expect(throws: SessionError.notFound("session not found or expired")) {
      try h.service.updateSessionData(handle: RandomIdentifier.uuid(), sessionDataJSON: "{}")
    }
  }

  @Test func updatedPayloadReachesTheNextRefreshedToken() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"user"}"#)
    try h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: #"{"role":"admin"}"#)
    #expect(try h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
    let issued = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    let view = try #require(verifiedView(h.verify(access.token)))
    #expect(try jsonObject(view.accessTokenPayloadJSON)["role"] as? String == "admin")
  }

  @Test func updatedPayloadMayNotSetAProtectedClaim() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"user"}"#)
    #expect(throws: SessionError.self) {
      try h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: #"{"sessionHandle":"x"}"#)
    }
    #expect(try h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"user"}"#)
  }

  @Test func regenerateKeepsTheExpiryAndCarriesTheNewClaims() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"user"}"#)
    h.clock.advance(byMs: 600_000)
    let issued = try h.service.regenerateAccessToken(
      accessToken: created.accessToken, payloadJSON: #"{"role":"admin"}"#)
    #expect(issued.refreshToken == nil)
    let access = try #require(issued.accessToken)
    #expect(access.expiresAtMs == created.issued.accessToken?.expiresAtMs)
    let view = try #require(verifiedView(h.verify(access.token)))
    let payload = try jsonObject(view.accessTokenPayloadJSON)
    #expect(payload["role"] as? String == "admin")
    #expect(payload["sessionHandle"] as? String == created.handle)
    #expect(view.accessTokenExpiresAtMs == created.issued.session.accessTokenExpiresAtMs)
    #expect(try h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
  }

  @Test func regenerateWithAnExpiredTokenOnlyChangesTheStoredClaims() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"user"}"#)
    h.clock.advance(byMs: 3_600_000)
    let issued = try h.service.regenerateAccessToken(
      accessToken: created.accessToken, payloadJSON: #"{"role":"admin"}"#)
    #expect(issued.accessToken == nil)
    #expect(issued.refreshToken == nil)
    #expect(issued.cookies.isEmpty)
    #expect(issued.session.handle == created.handle)
    #expect(try h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
  }

  @Test func regenerateRefusesForgedTokensAndProtectedClaims() throws {
    let h = try SessionHarness()
    let created = try h.create()
    guard case .unauthenticated = regenerateError(h, "a.b.c", "{}") else {
      Issue.record("a forged token must be unauthenticated")
      return
    }
    #expect(throws: SessionError.self) {
      try h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: #"{"exp":1}"#)
    }
    #expect(throws: SessionError.invalidArgument("access_token is empty")) {
      try h.service.regenerateAccessToken(accessToken: "", payloadJSON: "{}")
    }
  }

  @Test func regenerateForARevokedSessionIsNotFound() throws {
    let h = try SessionHarness()
    let created = try h.create()
    _ = try h.service.revokeSessions(handles: [created.handle])
    #expect(throws: SessionError.notFound("session not found or expired")) {
      try h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: "{}")
    }
  }

  private func regenerateError(_ h: SessionHarness, _ token: String, _ payload: String) -> SessionError {
    do {
      _ = try h.service.regenerateAccessToken(accessToken: token, payloadJSON: payload)
      return .internal("no error")
    } catch {
      return error
    }
  }
}
