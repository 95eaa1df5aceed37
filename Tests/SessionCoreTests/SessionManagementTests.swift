import SessionCore
import Testing

@Suite("SessionService get, list, update, regenerate")
struct SessionManagementTests {
  @Test func getReturnsTheStoredSession() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(userID: "u-1", payload: #"{"role":"admin"}"#, data: #"{"cart":[1,2]}"#)
    let session = try await h.service.getSession(handle: created.handle)
    #expect(session.handle == created.handle)
    #expect(session.userID == "u-1")
    #expect(session.sessionDataJSON == #"{"cart":[1,2]}"#)
    #expect(session.accessTokenPayloadJSON == #"{"role":"admin"}"#)
    #expect(session.createdAtMs == h.clock.nowMs())
    #expect(session.expiresAtMs == h.clock.nowMs() + h.config.refreshTokenValidityMs)
  }

  @Test func getOfAnUnknownOrExpiredSessionIsNotFound() async throws {
    let h = try await SessionHarness(["tokens.refreshToken.validity": "1"])
    await #expect(throws: SessionError.sessionNotFound) {
      try await h.service.getSession(handle: RandomIdentifier.uuid())
    }
    let created = try await h.create()
    h.clock.advance(byMs: 3_600_000)
    await #expect(throws: SessionError.sessionNotFound) {
      try await h.service.getSession(handle: created.handle)
    }
  }

  @Test func listReturnsTheUsersLiveSessions() async throws {
    let h = try await SessionHarness(["tokens.refreshToken.validity": "1"])
    let old = try await h.create(userID: "alice")
    h.clock.advance(byMs: 1_800_000)
    let fresh = try await asyncMap(0..<2) { _ in try await h.create(userID: "alice") }
    _ = try await h.create(userID: "bob")
    #expect(try await h.service.listSessions(userID: "alice") == (fresh.map(\.handle) + [old.handle]).sorted())
    h.clock.advance(byMs: 1_800_000)
    #expect(try await h.service.listSessions(userID: "alice") == fresh.map(\.handle).sorted())
    #expect(try await h.service.listSessions(userID: "carol") == [])
  }

  @Test func updateSessionDataChangesOnlyTheData() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"admin"}"#, data: #"{"v":1}"#)
    try await h.service.updateSessionData(handle: created.handle, sessionDataJSON: #"{"v":2}"#)
    let session = try await h.service.getSession(handle: created.handle)
    #expect(session.sessionDataJSON == #"{"v":2}"#)
    #expect(session.accessTokenPayloadJSON == #"{"role":"admin"}"#)
    await #expect(throws: SessionError.self) {
      try await h.service.updateSessionData(handle: created.handle, sessionDataJSON: "[]")
    }
    await #expect(throws: SessionError.sessionNotFound) {
      try await h.service.updateSessionData(handle: RandomIdentifier.uuid(), sessionDataJSON: "{}")
    }
  }

  @Test func updatedPayloadReachesTheNextRefreshedToken() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"user"}"#)
    try await h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: #"{"role":"admin"}"#)
    #expect(try await h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
    let issued = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    let view = try #require(verifiedView(h.verify(access.token)))
    #expect(try jsonObject(view.accessTokenPayloadJSON)["role"] as? String == "admin")
  }

  @Test func updatedPayloadMayNotSetAProtectedClaim() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"user"}"#)
    await #expect(throws: SessionError.self) {
      try await h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: #"{"sessionHandle":"x"}"#)
    }
    #expect(try await h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"user"}"#)
  }

  @Test func regenerateKeepsTheExpiryAndCarriesTheNewClaims() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"user"}"#)
    h.clock.advance(byMs: 600_000)
    let issued = try await h.service.regenerateAccessToken(
      accessToken: created.accessToken, payloadJSON: #"{"role":"admin"}"#)
    #expect(issued.refreshToken == nil)
    let access = try #require(issued.accessToken)
    #expect(access.expiresAtMs == created.issued.accessToken?.expiresAtMs)
    let view = try #require(verifiedView(h.verify(access.token)))
    let payload = try jsonObject(view.accessTokenPayloadJSON)
    #expect(payload["role"] as? String == "admin")
    #expect(payload["sessionHandle"] as? String == created.handle)
    #expect(view.accessTokenExpiresAtMs == created.issued.session.accessTokenExpiresAtMs)
    #expect(try await h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
  }

  @Test func regenerateWithAnExpiredTokenOnlyChangesTheStoredClaims() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"user"}"#)
    h.clock.advance(byMs: 3_600_000)
    let issued = try await h.service.regenerateAccessToken(
      accessToken: created.accessToken, payloadJSON: #"{"role":"admin"}"#)
    #expect(issued.accessToken == nil)
    #expect(issued.refreshToken == nil)
    #expect(issued.cookies.isEmpty)
    #expect(issued.session.handle == created.handle)
    #expect(try await h.service.getSession(handle: created.handle).accessTokenPayloadJSON == #"{"role":"admin"}"#)
  }

  @Test func regenerateRefusesForgedTokensAndProtectedClaims() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    guard case .invalidAccessToken = await regenerateError(h, "a.b.c", "{}") else {
      Issue.record("a forged token must be unauthenticated")
      return
    }
    await #expect(throws: SessionError.self) {
      try await h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: #"{"exp":1}"#)
    }
    await #expect(throws: SessionError.invalidInput("access_token is empty")) {
      try await h.service.regenerateAccessToken(accessToken: "", payloadJSON: "{}")
    }
  }

  @Test func regenerateForARevokedSessionIsNotFound() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    _ = try await h.service.revokeSessions(handles: [created.handle])
    await #expect(throws: SessionError.sessionNotFound) {
      try await h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: "{}")
    }
  }

  private func regenerateError(_ h: SessionHarness, _ token: String, _ payload: String) async -> SessionError {
    do {
      _ = try await h.service.regenerateAccessToken(accessToken: token, payloadJSON: payload)
      return .databaseFailed("no error")
    } catch {
      return error
    }
  }
}
