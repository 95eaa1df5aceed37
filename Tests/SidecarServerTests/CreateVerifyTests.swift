import Foundation
import SessionSidecarWire
import SessionToken
import SidecarClient
import Testing

@Suite("CreateSession, VerifySession, GetSigningKeys and Health through the socket")
struct CreateVerifyTests {
  @Test func createdSessionVerifies() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "user-1", payload: #"{"role":"admin","n":[1,2]}"#))
        #expect(created.status.code == .ok)
        let session = created.createSession
        #expect(session.session.userID == "user-1")
        #expect(session.session.handle.count == 36)
        #expect(!session.refreshToken.token.isEmpty)
        #expect(session.antiCsrfToken.isEmpty)

        let header = try jwtPart(session.accessToken.token, 0)
        #expect(header["alg"] as? String == "RS256")
        #expect(header["typ"] as? String == "JWT")
        #expect(header["version"] as? String == "5")
        #expect((header["kid"] as? String)?.hasPrefix("d-") == true)
        let claims = try jwtPart(session.accessToken.token, 1)
        #expect(claims["sub"] as? String == "user-1")
        #expect(claims["sessionHandle"] as? String == session.session.handle)
        #expect(claims["role"] as? String == "admin")
        #expect(claims["refreshTokenHash1"] is String)
        #expect(claims.keys.contains("parentRefreshTokenHash1"))
        #expect(claims.keys.contains("antiCsrfToken"))
        let exp = try #require(claims["exp"] as? Int)
        #expect(Int64(exp) * 1000 == session.accessToken.expiresAtMs)

        let verified = try await client.call(Call.verify(session.accessToken.token))
        #expect(verified.status.code == .ok)
        #expect(verified.verifySession.outcome == .ok)
        #expect(verified.verifySession.session.handle == session.session.handle)
        #expect(verified.verifySession.session.userID == "user-1")
        #expect(verified.verifySession.session.accessTokenPayloadJson.contains(#""role":"admin""#))
        await client.close()
      }
    }
  }

  @Test func cookiesAreReadyToSend() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let created = try await client.call(Call.create(user: "u")).createSession
        let cookies = Dictionary(uniqueKeysWithValues: created.cookies.map { ($0.name, $0) })
        let access = try #require(cookies["sAccessToken"])
        let refresh = try #require(cookies["sRefreshToken"])
        #expect(access.value == created.accessToken.token)
        #expect(access.path == "/")
        #expect(refresh.value == created.refreshToken.token)
        #expect(refresh.path == "/auth/session/refresh")
        for cookie in [access, refresh] {
          #expect(cookie.httpOnly && cookie.secure && cookie.sameSite == "Lax" && cookie.domain == "example.test")
          #expect(cookie.setCookieHeader.hasPrefix("\(cookie.name)=\(cookie.value); Path=\(cookie.path); "))
          #expect(cookie.setCookieHeader.contains("; Domain=example.test; Expires="))
          #expect(cookie.setCookieHeader.hasSuffix("GMT; HttpOnly; Secure; SameSite=Lax"))
        }
        await client.close()
      }
    }
  }

  @Test func expiredTokenAsksForRefreshAndForgeriesAreRefused() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.accessToken.validitySeconds = 60 }) { sidecars in
        let client = try await sidecars[0].connect()
        let token = try await client.call(Call.create(user: "u")).createSession.accessToken.token
        var parts = token.split(separator: ".").map(String.init)

        let tampered = parts[0] + "." + Base64URL.encode(Array(#"{"sub":"admin"}"#.utf8)) + "." + parts[2]
        let forged = try await client.call(Call.verify(tampered)).verifySession
        #expect(forged.outcome == .unauthorised)

        parts[0] = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT","kid":"x"}"#.utf8))
        let none = try await client.call(Call.verify(parts[0] + "." + parts[1] + ".")).verifySession
        #expect(none.outcome == .unauthorised)

        let huge = try await client.call(Call.verify(String(repeating: "a", count: 20_000))).verifySession
        #expect(huge.outcome == .unauthorised)
        #expect(huge.reason.contains("too large"))

        sidecars[0].clock.advance(byMs: 61_000)
        let expired = try await client.call(Call.verify(token)).verifySession
        #expect(expired.outcome == .tryRefreshToken)
        #expect(expired.reason == "access token expired")
        await client.close()
      }
    }
  }

  @Test func staticKeySessionsAndPublishedKeysVerifyOffline() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let dynamicToken = try await client.call(Call.create(user: "u")).createSession.accessToken.token
        let staticToken = try await client.call(Call.create(user: "u", staticKey: true)).createSession.accessToken.token
        #expect((try jwtPart(staticToken, 0)["kid"] as? String)?.hasPrefix("s-") == true)

        let keys = try await client.call(Call.signingKeys).getSigningKeys
        #expect(keys.keys.contains { $0.kind == .static && $0.kid.hasPrefix("s-") })
        #expect(keys.keys.contains { $0.kind == .dynamic && $0.kid.hasPrefix("d-") })
        #expect(keys.keys.allSatisfy { $0.alg == "RS256" && $0.publicKeyPem.hasPrefix("-----BEGIN PUBLIC KEY-----") })
        #expect(keys.cacheMaxAgeS >= 1)

        // Offline: the published JWKS alone verifies both tokens.
        let jwks = try JWKSet(json: keys.jwksJson)
        let verifier = AccessTokenVerifier()
        for token in [dynamicToken, staticToken] {
          guard case .valid(let verified) = verifier.verify(token, keys: jwks, nowMs: sidecars[0].clock.nowMs()) else {
            Issue.record("the published JWKS does not verify a token")
            continue
          }
          #expect(verified.claims.subject == "u")
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(keys.jwksJson.utf8)) as? [String: Any])
        let jwkList = try #require(object["keys"] as? [[String: Any]])
        #expect(jwkList.count == keys.keys.count)
        for jwk in jwkList {
          #expect(jwk["kty"] as? String == "RSA" && jwk["alg"] as? String == "RS256" && jwk["use"] as? String == "sig")
          #expect(jwk["n"] is String && jwk["e"] is String && jwk["kid"] is String)
        }
        await client.close()
      }
    }
  }

  @Test func healthReportsTheDatabase() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let health = try await client.call(Call.health)
        #expect(health.status.code == .ok)
        #expect(health.health.serving && health.health.databaseReachable && !health.health.version.isEmpty)
        await client.close()
      }
    }
  }

  @Test func invalidArgumentsGetClearStatuses() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        let cases: [(WireRequest, String)] = [
          (Call.create(user: ""), "user_id is empty"),
          (Call.create(user: String(repeating: "u", count: 256)), "user_id is longer than 255 bytes"),
          (Call.create(user: "u", payload: #"{"sub":"someone-else"}"#), "sub"),
          (Call.create(user: "u", payload: "[1,2]"), "access_token_payload_json"),
          (Call.create(user: "u", payload: #"{"a":1,"a":2}"#), "access_token_payload_json"),
          (Call.create(user: "u", data: "{not json"), "session_data_json"),
          (Call.verify(""), "access_token is empty"),
        ]
        for (request, fragment) in cases {
          let response = try await client.call(request)
          #expect(response.status.code == .invalidArgument, "\(fragment)")
          #expect(response.status.message.contains(fragment), "\(response.status.message)")
          #expect(response.result == nil)
        }
        await client.close()
      }
    }
  }
}
