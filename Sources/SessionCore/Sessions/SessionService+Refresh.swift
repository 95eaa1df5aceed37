import OpenSSLCrypto
import SessionStorage

extension SessionService {
  /// RefreshSession: rotation with theft detection. The decision, the new access token and the row change
  /// happen under the store's row lock, so concurrent refreshes of one session (on any sidecar) are
  /// serialized, and a refresh that cannot sign changes nothing (the client may retry with the same token).
  ///
  /// Idempotent for the client: the previous token presented inside the grace period (a second tab, or a retry
  /// after a lost answer) gets the same current refresh token again, re-derived, and a fresh access token. The
  /// grace period is measured on the store's clock (the database's), so skewed sidecar clocks change nothing.
  public func refreshSession(refreshToken text: String, antiCsrfToken: String) async throws(SessionError)
    -> RefreshOutcome
  {
    guard !text.isEmpty else { throw .invalidInput("refresh_token is empty") }
    guard let presented = RefreshToken(parsing: text) else {
      return .unauthorised(reason: "malformed refresh token")
    }
    let localNow = clock.nowMs()
    let outcome: RefreshOutcome = try await withStore { [self] store in
      try store.updateSession(handle: presented.sessionHandle) {
        record, storeNow -> (SessionChange, RefreshOutcome) in
        let now = storeNow ?? localNow
        switch rotation.decide(session: record, presented: presented, nowMs: now) {
        case .reject(let reason):
          return (.keep, .unauthorised(reason: reason))
        case .theftDetected:
          let record = record!
          return (
            .revoke(nowMs: now, revocationExpiresAtMs: revocationExpiry(nowMs: now)),
            .tokenTheftDetected(sessionHandle: record.handle, userID: record.userID)
          )
        case let decision:
          var record = record!
          if let expected = record.antiCsrfToken,
            antiCsrfToken.isEmpty || !constantTimeEquals(Array(antiCsrfToken.utf8), Array(expected.utf8))
          {
            return (.keep, .unauthorised(reason: "anti-CSRF token missing or wrong"))
          }
          record.expiresAtMs = now + config.refreshTokenValidityMs
          // Rotating moves to the next generation; the previous token inside the grace period gets the current
          // generation's token again: the answer the first refresh gave.
          if decision == .rotate { record.refreshGeneration += 1 }
          let current = derivedRefreshToken(record)
          if decision == .rotate {
            record.previousRefreshTokenHash2 = record.refreshTokenHash2
            record.rotatedAtMs = now
            record.refreshTokenHash2 = current.hash2
          }
          let (accessToken, view) = try signAccessToken(
            session: record, customClaimsJSON: record.accessTokenPayloadJSON, refreshTokenHash1: current.hash1,
            parentRefreshTokenHash1: presented.hash1, nowMs: now)
          record.lastAccessTokenExpiresAtMs = max(record.lastAccessTokenExpiresAtMs, accessToken.expiresAtMs)
          let refreshToken = IssuedToken(token: current.text, expiresAtMs: record.expiresAtMs)
          return (
            .replace(record),
            .ok(issued(view: view, accessToken: accessToken, refreshToken: refreshToken, record: record))
          )
        }
      }
    }

    switch outcome {
    case .tokenTheftDetected(let handle, _):
      revocations.insert([handle], expiresAtMs: revocationExpiry(nowMs: localNow))
      logger.error("refresh token theft detected; session revoked", metadata: ["sessionHandle": "\(handle)"])
    case .ok(let issued):
      logger.info("session refreshed", metadata: ["sessionHandle": "\(issued.session.handle)"])
    case .unauthorised:
      break
    }
    return outcome
  }

  /// The session's current refresh token, derived from its family key and generation.
  func derivedRefreshToken(_ record: SessionRecord) -> RefreshToken {
    RefreshToken.derive(
      sessionHandle: record.handle, familyKey: record.tokenFamilyKey, generation: record.refreshGeneration,
      derivationKey: refreshTokenDerivationKey)
  }
}
