import SessionCore
import Testing

@Suite("Cookies")
struct CookieTests {
  @Test(arguments: [
    (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"),
    (1_999, "Thu, 01 Jan 1970 00:00:01 GMT"),
    (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
    (784_111_777_000, "Sun, 06 Nov 1994 08:49:37 GMT"),
    (951_782_400_000, "Tue, 29 Feb 2000 00:00:00 GMT"),
    (1_700_000_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
    (4_107_542_399_000, "Sun, 28 Feb 2100 23:59:59 GMT"),
    (4_107_542_400_000, "Mon, 01 Mar 2100 00:00:00 GMT"),
    (253_402_300_799_000, "Fri, 31 Dec 9999 23:59:59 GMT"),
  ])
  func httpDate(epochMs: Int64, text: String) {
    #expect(HTTPDate.format(epochMs: epochMs) == text)
  }

  @Test func accessTokenCookieHeader() {
    let factory = CookieFactory(domain: "example.com", secure: true, renewTokenPath: "/auth/session/refresh")
    let cookie = factory.accessTokenCookie("abc.def.ghi", expiresAtMs: 0)
    #expect(
      cookie.header
        == "sAccessToken=abc.def.ghi; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
    )
    #expect(cookie.name == "sAccessToken")
    #expect(cookie.path == "/")
    #expect(cookie.httpOnly && cookie.secure)
    #expect(cookie.sameSite == "Lax")
  }

  @Test func refreshTokenCookieUsesTheRenewPathAndSecureOff() {
    let factory = CookieFactory(domain: "example.com", secure: false, renewTokenPath: "/auth/session/refresh")
    let cookie = factory.refreshTokenCookie("rt", expiresAtMs: 784_111_777_000)
    #expect(
      cookie.header
        == "sRefreshToken=rt; Path=/auth/session/refresh; Domain=example.com; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; SameSite=Lax"
    )
    #expect(!cookie.secure)
    #expect(cookie.path == "/auth/session/refresh")
  }

  @Test func emptyDomainIsLeftOut() {
    let cookie = CookieFactory(domain: "", secure: true, renewTokenPath: "/r").accessTokenCookie("t", expiresAtMs: 0)
    #expect(
      cookie.header == "sAccessToken=t; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax")
  }

  @Test func createdSessionSetsBothCookiesFromTheConfiguration() async throws {
    let h = try await SessionHarness(["cookie.secure": "false", "cookie.domain": "app.example.org"])
    let created = try await h.create()
    let expiry = h.clock.nowMs() + h.config.refreshTokenValidityMs
    let date = HTTPDate.format(epochMs: expiry)
    #expect(
      created.issued.cookies.map(\.header) == [
        "sAccessToken=\(created.accessToken); Path=/; Domain=app.example.org; Expires=\(date); HttpOnly; SameSite=Lax",
        "sRefreshToken=\(created.refreshToken); Path=/auth/session/refresh; Domain=app.example.org; Expires=\(date); HttpOnly; SameSite=Lax",
      ])
  }
}
