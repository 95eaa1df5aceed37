import Foundation
import SessionCore
import SessionStorage
import Testing

/// Create, verify, expire and refresh a session, all in memory.
@Suite("SessionService lifecycle")
struct SessionLifecycleTests {
  @Test func createdSessionVerifiesWithFlattenedClaims() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(userID: "user-7", payload: #"{"role":"admin","n":42}"#, data: #"{"cart":[1]}"#)
    let view = try #require(verifiedView(h.verify(created.accessToken)))
    #expect(view.handle == created.handle)
    #expect(view.userID == "user-7")
    #expect(view.accessTokenExpiresAtMs == h.clock.nowMs() + 3_600_000)
    let payload = try jsonObject(view.accessTokenPayloadJSON)
    #expect(payload["sub"] as? String == "user-7")
    #expect(payload["sessionHandle"] as? String == created.handle)
    #expect(payload["role"] as? String == "admin")
    #expect(payload["n"] as? Int == 42)
    #expect(payload["exp"] as? Int == Int(h.clock.nowMs() / 1000 + 3600))
    #expect(payload["iat"] as? Int == Int(h.clock.nowMs() / 1000))
    #expect(payload["antiCsrfToken"] is NSNull)
    #expect(payload["parentRefreshTokenHash1"] is NSNull)
    #expect(view.accessTokenPayloadJSON == created.issued.session.accessTokenPayloadJSON)
    #expect(created.issued.antiCsrfToken == nil)
    #expect(h.kid(of: created.accessToken)?.hasPrefix("d-") == true)
  }

  @Test func createdSessionIsStored() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"admin"}"#, data: #" {"a":1} "#)
    let record = try #require(try h.store.session(handle: created.handle))
    #expect(record.userID == "user-1")
    #expect(record.sessionDataJSON == #"{"a":1}"#)
    #expect(record.accessTokenPayloadJSON == #"{"role":"admin"}"#)
    #expect(record.createdAtMs == h.clock.nowMs())
    #expect(record.expiresAtMs == h.clock.nowMs() + h.config.refreshTokenValidityMs)
    #expect(created.issued.refreshToken?.expiresAtMs == record.expiresAtMs)
    #expect(record.refreshTokenHash2 != created.refreshToken)
    #expect(!record.refreshTokenHash2.contains(created.refreshToken))
  }

  @Test func expiredAccessTokenAsksForARefresh() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    h.clock.advance(byMs: 3_600_000 - 1)
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    h.clock.advance(byMs: 1)
    #expect(h.verify(created.accessToken) == .tryRefreshToken(reason: "access token expired"))
  }

  /// The access-token cookie outlives the token so that an expired token still reaches the backend and gets
  /// "try refresh token"; that must hold after the key that signed it has been retired too.
  @Test func accessTokenOfARetiredKeyAsksForARefresh() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let kid = try #require(h.kid(of: created.accessToken))
    h.clock.advance(byMs: 3 * 86_400_000)
    try await h.rotation.synchronize()
    #expect(h.ring.verificationKey(kid: Substring(kid)) == nil)
    let outcome = h.verify(created.accessToken)
    #expect(isTryRefresh(outcome), "got \(outcome)")
    // The session itself is alive: the refresh that answer asks for succeeds.
    #expect(refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")) != nil)
  }

  @Test func garbageIsUnauthorised() async throws {
    let h = try await SessionHarness()
    guard case .unauthorised = h.verify("not.a.token") else {
      Issue.record("garbage must be unauthorised")
      return
    }
  }

  @Test func refreshRotatesAndSlidesTheSessionExpiry() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(payload: #"{"role":"admin"}"#)
    h.clock.advance(byMs: 3_700_000)
    let issued = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let newRefresh = try #require(issued.refreshToken)
    let newAccess = try #require(issued.accessToken)
    #expect(newRefresh.token != created.refreshToken)
    #expect(newRefresh.expiresAtMs == h.clock.nowMs() + h.config.refreshTokenValidityMs)
    #expect(try h.store.session(handle: created.handle)?.expiresAtMs == newRefresh.expiresAtMs)
    let view = try #require(verifiedView(h.verify(newAccess.token)))
    #expect(view.handle == created.handle)
    let payload = try jsonObject(view.accessTokenPayloadJSON)
    #expect(payload["role"] as? String == "admin")
    #expect(payload["parentRefreshTokenHash1"] is String)
    #expect(issued.cookies.map(\.name) == ["sAccessToken", "sRefreshToken"])

    // The new refresh token rotates again.
    h.clock.advance(byMs: 60_000)
    #expect(
      refreshed(try await h.service.refreshSession(refreshToken: newRefresh.token, antiCsrfToken: ""))?.refreshToken
        != nil)
  }

  /// Two tabs, or a retry after the first answer was lost: the previous token inside the grace period gets the
  /// same new refresh token as the first answer (no second live branch) and a fresh access token.
  @Test func previousTokenInsideGraceGetsTheSameNewRefreshTokenAgain() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let first = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    h.clock.advance(byMs: 10_000)
    let reuse = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    #expect(reuse.refreshToken?.token == first.refreshToken?.token)
    let access = try #require(reuse.accessToken)
    #expect(access.token != first.accessToken?.token)
    #expect(verifiedView(h.verify(access.token)) != nil)
    #expect(reuse.cookies.map(\.name) == ["sAccessToken", "sRefreshToken"])
    // The current token from the first refresh is still the current one.
    let current = try #require(first.refreshToken)
    #expect(
      refreshed(try await h.service.refreshSession(refreshToken: current.token, antiCsrfToken: ""))?.refreshToken != nil
    )
  }

  @Test func staticKeySessionKeepsTheStaticKidAcrossRefresh() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(staticKey: true)
    let kid = try #require(h.kid(of: created.accessToken))
    #expect(kid.hasPrefix("s-"))
    h.clock.advance(byMs: 2 * 86_400_000)
    try await h.rotation.synchronize()
    let issued = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    #expect(h.kid(of: access.token) == kid)
  }

  @Test func dynamicKeySessionMovesToTheNewKeyAfterRotation() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    let firstKid = try #require(h.kid(of: created.accessToken))
    h.clock.advance(byMs: 86_400_000)
    try await h.rotation.synchronize()
    let issued = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    let newKid = try #require(h.kid(of: access.token))
    #expect(newKid != firstKid)
    #expect(newKid.hasPrefix("d-"))
  }

  @Test func staticKeyIsUsedWhenDynamicKeysAreOff() async throws {
    let h = try await SessionHarness(["tokens.accessToken.signingKey.dynamic": "false"])
    let created = try await h.create()
    #expect(h.kid(of: created.accessToken)?.hasPrefix("s-") == true)
  }

  @Test(arguments: ["sub", "exp", "iat", "sessionHandle", "refreshTokenHash1", "antiCsrfToken", "tId", "rsub", "iss"])
  func payloadCollidingWithAProtectedClaimIsRefused(claim: String) async throws {
    let h = try await SessionHarness()
    await #expect(throws: SessionError.self) { try await h.create(payload: "{\"\(claim)\":\"x\"}") }
    do {
      _ = try await h.create(payload: "{\"\(claim)\":\"x\"}")
    } catch let error as SessionError {
      guard case .invalidInput(let message) = error else {
        Issue.record("expected invalidInput, got \(error)")
        return
      }
      #expect(message.contains(claim))
    }
    #expect(try h.store.liveSessionHandles(userID: "user-1", nowMs: h.clock.nowMs()).isEmpty)
  }

  @Test(arguments: [
    (#"{"a":"#, ""), ("[1,2]", ""), (#"{"a":1}x"#, ""), (#"{"a":1,"a":2}"#, ""), ("", "{"), ("", "42"),
  ])
  func invalidJSONIsRefused(payload: String, data: String) async throws {
    let h = try await SessionHarness()
    do {
      _ = try await h.create(payload: payload, data: data)
      Issue.record("created a session with payload \(payload) data \(data)")
    } catch let error as SessionError {
      guard case .invalidInput = error else {
        Issue.record("expected invalidInput, got \(error)")
        return
      }
    }
  }

  @Test(arguments: ["", String(repeating: "u", count: 256)])
  func badUserIDIsRefused(userID: String) async throws {
    let h = try await SessionHarness()
    await #expect(throws: SessionError.self) { try await h.create(userID: userID) }
  }

  @Test func malformedOrUnknownRefreshTokenIsUnauthorised() async throws {
    let h = try await SessionHarness()
    #expect(
      try await h.service.refreshSession(refreshToken: "garbage", antiCsrfToken: "")
        == .unauthorised(reason: "malformed refresh token"))
    await #expect(throws: SessionError.invalidInput("refresh_token is empty")) {
      try await h.service.refreshSession(refreshToken: "", antiCsrfToken: "")
    }
    let stranger = RefreshToken.issue(
      sessionHandle: RandomIdentifier.uuid(), familyKey: [UInt8](repeating: 1, count: 32))
    guard case .unauthorised = try await h.service.refreshSession(refreshToken: stranger.text, antiCsrfToken: "") else {
      Issue.record("a token for no session must be unauthorised")
      return
    }
  }

  @Test func expiredSessionCannotRefresh() async throws {
    let h = try await SessionHarness(["tokens.refreshToken.validity": "1"])
    let created = try await h.create()
    h.clock.advance(byMs: 3_600_000)
    #expect(
      try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
        == .unauthorised(reason: "refresh token expired"))
  }
}
