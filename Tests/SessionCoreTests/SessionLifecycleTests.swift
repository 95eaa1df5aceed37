import Foundation
import SessionCore
import SessionStorage
import Testing

/// Create, verify, expire and refresh a session, all in memory.
@Suite("SessionService lifecycle")
struct SessionLifecycleTests {
  @Test func createdSessionVerifiesWithFlattenedClaims() throws {
    let h = try SessionHarness()
    let created = try h.create(userID: "user-7", payload: #"{"role":"admin","n":42}"#, data: #"{"cart":[1]}"#)
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

  @Test func createdSessionIsStored() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"admin"}"#, data: #" {"a":1} "#)
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

  @Test func expiredAccessTokenAsksForARefresh() throws {
    let h = try SessionHarness()
    let created = try h.create()
    h.clock.advance(byMs: 3_600_000 - 1)
    #expect(verifiedView(h.verify(created.accessToken)) != nil)
    h.clock.advance(byMs: 1)
    #expect(h.verify(created.accessToken) == .tryRefreshToken(reason: "access token expired"))
  }

  /// The access-token cookie outlives the token so that an expired token still reaches the backend and gets
  /// "try refresh token"; that must hold after the key that signed it has been retired too.
  @Test func accessTokenOfARetiredKeyAsksForARefresh() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let kid = try #require(h.kid(of: created.accessToken))
    h.clock.advance(byMs: 3 * 86_400_000)
    try h.rotation.synchronize()
    #expect(h.ring.verificationKey(kid: Substring(kid)) == nil)
    let outcome = h.verify(created.accessToken)
    #expect(isTryRefresh(outcome), "got \(outcome)")
    // The session itself is alive: the refresh that answer asks for succeeds.
    #expect(refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")) != nil)
  }

  @Test func garbageIsUnauthorised() throws {
    let h = try SessionHarness()
    guard case .unauthorised = h.verify("not.a.token") else {
      Issue.record("garbage must be unauthorised")
      return
    }
  }

  @Test func refreshRotatesAndSlidesTheSessionExpiry() throws {
    let h = try SessionHarness()
    let created = try h.create(payload: #"{"role":"admin"}"#)
    h.clock.advance(byMs: 3_700_000)
    let issued = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
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
      refreshed(try h.service.refreshSession(refreshToken: newRefresh.token, antiCsrfToken: ""))?.refreshToken != nil)
  }

  @Test func previousTokenInsideGraceGivesAnAccessTokenButNoRefreshToken() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let first = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    h.clock.advance(byMs: 10_000)
    let reuse = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    #expect(reuse.refreshToken == nil)
    let access = try #require(reuse.accessToken)
    #expect(verifiedView(h.verify(access.token)) != nil)
    #expect(reuse.cookies.map(\.name) == ["sAccessToken"])
    // The current token from the first refresh is still the current one.
    let current = try #require(first.refreshToken)
    #expect(
      refreshed(try h.service.refreshSession(refreshToken: current.token, antiCsrfToken: ""))?.refreshToken != nil)
  }

  @Test func staticKeySessionKeepsTheStaticKidAcrossRefresh() throws {
    let h = try SessionHarness()
    let created = try h.create(staticKey: true)
    let kid = try #require(h.kid(of: created.accessToken))
    #expect(kid.hasPrefix("s-"))
    h.clock.advance(byMs: 2 * 86_400_000)
    try h.rotation.synchronize()
    let issued = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    #expect(h.kid(of: access.token) == kid)
  }

  @Test func dynamicKeySessionMovesToTheNewKeyAfterRotation() throws {
    let h = try SessionHarness()
    let created = try h.create()
    let firstKid = try #require(h.kid(of: created.accessToken))
    h.clock.advance(byMs: 86_400_000)
    try h.rotation.synchronize()
    let issued = try #require(
      refreshed(try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let access = try #require(issued.accessToken)
    let newKid = try #require(h.kid(of: access.token))
    #expect(newKid != firstKid)
    #expect(newKid.hasPrefix("d-"))
  }

  @Test func staticKeyIsUsedWhenDynamicKeysAreOff() throws {
    let h = try SessionHarness(["tokens.accessToken.signingKey.dynamic": "false"])
    let created = try h.create()
    #expect(h.kid(of: created.accessToken)?.hasPrefix("s-") == true)
  }

  @Test(arguments: ["sub", "exp", "iat", "sessionHandle", "refreshTokenHash1", "antiCsrfToken", "tId", "rsub", "iss"])
  func payloadCollidingWithAProtectedClaimIsRefused(claim: String) throws {
    let h = try SessionHarness()
    #expect(throws: SessionError.self) { try h.create(payload: "{\"\(claim)\":\"x\"}") }
    do {
      _ = try h.create(payload: "{\"\(claim)\":\"x\"}")
    } catch let error as SessionError {
      guard case .invalidArgument(let message) = error else {
        Issue.record("expected invalidArgument, got \(error)")
        return
      }
      #expect(message.contains(claim))
    }
    #expect(try h.store.liveSessionHandles(userID: "user-1", nowMs: h.clock.nowMs()).isEmpty)
  }

  @Test(arguments: [
    (#"{"a":"#, ""), ("[1,2]", ""), (#"{"a":1}x"#, ""), (#"{"a":1,"a":2}"#, ""), ("", "{"), ("", "42"),
  ])
  func invalidJSONIsRefused(payload: String, data: String) throws {
    let h = try SessionHarness()
    do {
      _ = try h.create(payload: payload, data: data)
      Issue.record("created a session with payload \(payload) data \(data)")
    } catch let error as SessionError {
      guard case .invalidArgument = error else {
        Issue.record("expected invalidArgument, got \(error)")
        return
      }
    }
  }

  @Test(arguments: ["", String(repeating: "u", count: 256)])
  func badUserIDIsRefused(userID: String) throws {
    let h = try SessionHarness()
    #expect(throws: SessionError.self) { try h.create(userID: userID) }
  }

  @Test func malformedOrUnknownRefreshTokenIsUnauthorised() throws {
    let h = try SessionHarness()
    #expect(
      try h.service.refreshSession(refreshToken: "garbage", antiCsrfToken: "")
        == .unauthorised(reason: "malformed refresh token"))
    #expect(throws: SessionError.invalidArgument("refresh_token is empty")) {
      try h.service.refreshSession(refreshToken: "", antiCsrfToken: "")
    }
    let stranger = RefreshToken.issue(
      sessionHandle: RandomIdentifier.uuid(), familyKey: [UInt8](repeating: 1, count: 32))
    guard case .unauthorised = try h.service.refreshSession(refreshToken: stranger.text, antiCsrfToken: "") else {
      Issue.record("a token for no session must be unauthorised")
      return
    }
  }

  @Test func expiredSessionCannotRefresh() throws {
    let h = try SessionHarness(["tokens.refreshToken.validity": "1"])
    let created = try h.create()
    h.clock.advance(byMs: 3_600_000)
    #expect(
      try h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
        == .unauthorised(reason: "refresh token expired"))
  }
}
