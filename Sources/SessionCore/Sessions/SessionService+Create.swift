import OpenSSLCrypto
import SessionStorage

extension SessionService {
  /// CreateSession: stores a new session and issues its first tokens.
  public func createSession(_ input: CreateSessionInput) async throws(SessionError) -> IssuedSession {
    try Self.requireUserID(input.userID)
    let customClaims = try Self.validatedJSONObject(input.accessTokenPayloadJSON, field: "access_token_payload_json")
    let sessionData = try Self.validatedJSONObject(input.sessionDataJSON, field: "session_data_json")
    let now = clock.nowMs()
    let handle = RandomIdentifier.uuid()
    let familyKey = SecureRandom.bytes(32)
    var record = SessionRecord(
      handle: handle, userID: input.userID, refreshTokenHash2: "", tokenFamilyKey: familyKey,
      sessionDataJSON: sessionData, accessTokenPayloadJSON: customClaims,
      antiCsrfToken: input.enableAntiCsrf ? RandomIdentifier.token(byteCount: 24) : nil,
      useStaticKey: input.useStaticKey, createdAtMs: now, expiresAtMs: now + config.refreshTokenValidityMs,
      refreshGeneration: 1)
    let refreshToken = derivedRefreshToken(record)
    record.refreshTokenHash2 = refreshToken.hash2
    // Sign first: a payload that collides with a protected claim is refused before anything is stored.
    let (accessToken, view) = try signAccessToken(
      session: record, customClaimsJSON: customClaims, refreshTokenHash1: refreshToken.hash1,
      parentRefreshTokenHash1: nil, nowMs: now)
    record.lastAccessTokenExpiresAtMs = accessToken.expiresAtMs
    try await withStore { [record] in try $0.insertSession(record) }
    logger.info("session created", metadata: ["sessionHandle": "\(handle)", "staticKey": "\(input.useStaticKey)"])
    return issued(
      view: view, accessToken: accessToken,
      refreshToken: IssuedToken(token: refreshToken.text, expiresAtMs: record.expiresAtMs),
      record: record)
  }

  func issued(view: SessionView, accessToken: IssuedToken?, refreshToken: IssuedToken?, record: SessionRecord)
    -> IssuedSession
  {
    var cookies: [SetCookie] = []
    if let accessToken {
      cookies.append(self.cookies.accessTokenCookie(accessToken.token, expiresAtMs: record.expiresAtMs))
    }
    if let refreshToken {
      cookies.append(self.cookies.refreshTokenCookie(refreshToken.token, expiresAtMs: refreshToken.expiresAtMs))
    }
    return IssuedSession(
      session: view, accessToken: accessToken, refreshToken: refreshToken, antiCsrfToken: record.antiCsrfToken,
      cookies: cookies)
  }
}
