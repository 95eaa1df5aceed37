import OpenSSLCrypto
import SessionToken

extension SessionService {
  /// VerifySession's fast path: signature, claims, expiry, anti-CSRF and the in-memory revocation set.
  /// No I/O; safe inline on an event loop. A token seen before skips the signature check (VerifiedTokenCache)
  /// but not the checks that can change: expiry, its key still being held, blacklisting, anti-CSRF.
  public func verify(accessToken: String, antiCsrfToken: String, doAntiCsrfCheck: Bool, checkDatabase: Bool)
    -> VerifyOutcome
  {
    let now = clock.nowMs()
    if let verifiedTokens, let hit = verifiedTokens.lookup(accessToken, nowMs: now) {
      if keyRing.verificationKey(kid: Substring(hit.kid)) != nil {
        return accepted(
          handle: hit.sessionHandle, userID: hit.userID, payloadJSON: hit.payloadJSON, expiresAt: hit.expiresAtMs,
          tokenAntiCsrf: hit.antiCsrfToken, antiCsrfToken: antiCsrfToken, doAntiCsrfCheck: doAntiCsrfCheck,
          checkDatabase: checkDatabase)
      }
      // Its key was retired: the full path decides (it asks for a refresh).
      verifiedTokens.remove(accessToken)
    }
    switch verifier.verify(accessToken, keys: keyRing, nowMs: now) {
    case .invalid(let reason):
      return .unauthorised(reason: reason)
    case .unknownKey(let kid):
      // A key is retired only after every token it signed has expired, and a key newer than all held was made
      // by another sidecar seconds ago: either way the session may be alive, so ask for a refresh rather than
      // log the user out. Refreshing needs the refresh token, so a forged kid gains nothing.
      switch keyRing.classify(unknownKid: kid) {
      case .retired: return .tryRefreshToken(reason: "access token expired (its signing key was retired)")
      case .notLoadedYet: return .tryRefreshToken(reason: "signing key not loaded yet; refresh the session")
      case .unknown: return .unauthorised(reason: "unknown signing key")
      }
    case .expired:
      return .tryRefreshToken(reason: "access token expired")
    case .valid(let token):
      let claims = token.claims
      let expiresAtMs = claims.expiresAt * 1000
      verifiedTokens?.insert(
        accessToken, kid: token.kid, sessionHandle: claims.sessionHandle, userID: claims.subject,
        antiCsrfToken: claims.antiCsrfToken, expiresAtMs: expiresAtMs)
      return accepted(
        handle: claims.sessionHandle, userID: claims.subject, payloadJSON: token.payloadJSON, expiresAt: expiresAtMs,
        tokenAntiCsrf: claims.antiCsrfToken, antiCsrfToken: antiCsrfToken, doAntiCsrfCheck: doAntiCsrfCheck,
        checkDatabase: checkDatabase)
    }
  }

  /// The checks after the signature: anti-CSRF and blacklisting, the same for a cached and a fresh verify.
  private func accepted(
    handle: String, userID: String, payloadJSON: String, expiresAt: Int64, tokenAntiCsrf: String?,
    antiCsrfToken: String, doAntiCsrfCheck: Bool, checkDatabase: Bool
  ) -> VerifyOutcome {
    if doAntiCsrfCheck, let expected = tokenAntiCsrf,
      antiCsrfToken.isEmpty || !constantTimeEquals(Array(antiCsrfToken.utf8), Array(expected.utf8))
    {
      return .tryRefreshToken(reason: "anti-CSRF token missing or wrong")
    }
    if config.accessToken.blacklisting, revocations.contains(handle) {
      return .unauthorised(reason: "session revoked")
    }
    return .ok(
      SessionView(
        handle: handle, userID: userID, accessTokenPayloadJSON: payloadJSON, accessTokenExpiresAtMs: expiresAt),
      needsDatabaseCheck: checkDatabase)
  }

  /// The strict per-call check: does the session still exist in the database?
  public func sessionIsLive(handle: String) async throws(SessionError) -> Bool {
    let now = clock.nowMs()
    return try await withStore { try $0.session(handle: handle).map { $0.expiresAtMs > now } ?? false }
  }
}
