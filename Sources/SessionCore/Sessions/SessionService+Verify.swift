import OpenSSLCrypto
import SessionToken

extension SessionService {
  /// VerifySession's fast path: signature, claims, expiry, anti-CSRF and the in-memory revocation set.
  /// No I/O, no allocation beyond the decoded token; safe on an event loop.
  public func verify(accessToken: String, antiCsrfToken: String, doAntiCsrfCheck: Bool, checkDatabase: Bool)
    -> VerifyOutcome
  {
    switch verifier.verify(accessToken, keys: keyRing, nowMs: clock.nowMs()) {
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
      if doAntiCsrfCheck, let expected = claims.antiCsrfToken,
        antiCsrfToken.isEmpty || !constantTimeEquals(Array(antiCsrfToken.utf8), Array(expected.utf8))
      {
        return .tryRefreshToken(reason: "anti-CSRF token missing or wrong")
      }
      if config.accessToken.blacklisting, revocations.contains(claims.sessionHandle) {
        return .unauthorised(reason: "session revoked")
      }
      return .ok(
        SessionView(
          handle: claims.sessionHandle, userID: claims.subject, accessTokenPayloadJSON: token.payloadJSON,
          accessTokenExpiresAtMs: claims.expiresAt * 1000),
        needsDatabaseCheck: checkDatabase)
    }
  }

  /// The strict per-call check: does the session still exist in the database?
  public func sessionIsLive(handle: String) async throws(SessionError) -> Bool {
    let now = clock.nowMs()
    return try await withStore { try $0.session(handle: handle).map { $0.expiresAtMs > now } ?? false }
  }
}
