import SessionCore
import Testing

@Suite("SessionService anti-CSRF")
struct AntiCsrfTests {
  @Test func verifyRequiresTheSessionsAntiCsrfToken() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(antiCsrf: true)
    let csrf = try #require(created.issued.antiCsrfToken)
    let payload = try jsonObject(created.issued.session.accessTokenPayloadJSON)
    #expect(payload["antiCsrfToken"] as? String == csrf)

    #expect(verifiedView(h.verify(created.accessToken, antiCsrf: csrf, checkAntiCsrf: true)) != nil)
    let refused = VerifyOutcome.tryRefreshToken(reason: "anti-CSRF token missing or wrong")
    #expect(h.verify(created.accessToken, antiCsrf: csrf + "x", checkAntiCsrf: true) == refused)
    #expect(h.verify(created.accessToken, antiCsrf: "", checkAntiCsrf: true) == refused)
    // The caller may skip the check (e.g. for GET requests).
    #expect(verifiedView(h.verify(created.accessToken, antiCsrf: "wrong", checkAntiCsrf: false)) != nil)
  }

  @Test func sessionWithoutAntiCsrfPassesTheCheck() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    #expect(verifiedView(h.verify(created.accessToken, antiCsrf: "", checkAntiCsrf: true)) != nil)
  }

  @Test func refreshRequiresTheSessionsAntiCsrfToken() async throws {
    let h = try await SessionHarness()
    let created = try await h.create(antiCsrf: true)
    let csrf = try #require(created.issued.antiCsrfToken)
    let refused = RefreshOutcome.unauthorised(reason: "anti-CSRF token missing or wrong")
    #expect(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "wrong") == refused)
    #expect(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "") == refused)
    // A refused refresh changes nothing: the token is still current and rotates, it is not taken for theft.
    h.clock.advance(byMs: 60_000)
    let issued = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: csrf)))
    #expect(issued.refreshToken != nil)
    #expect(issued.antiCsrfToken == csrf)
    let access = try #require(issued.accessToken)
    #expect(verifiedView(h.verify(access.token, antiCsrf: csrf, checkAntiCsrf: true)) != nil)
  }
}
