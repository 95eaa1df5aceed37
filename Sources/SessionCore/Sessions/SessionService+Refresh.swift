import OpenSSLCrypto
import SessionStorage

extension SessionService {
  /// RefreshSession: rotation with theft detection. The decision, the new access token and the row change
  /// happen under the store's row lock, so concurrent refreshes of one session (on any sidecar) are
  /// serialized, and a refresh that cannot sign changes nothing (the client may retry with the same token).
  public func refreshSession(refreshToken text: String, antiCsrfToken: String) async throws(SessionError)
    -> RefreshOutcome
  {
    guard !text.isEmpty else { throw .invalidInput("refresh_token is empty") }
    guard let presented = RefreshToken(parsing: text) else {
      return .unauthorised(reason: "malformed refresh token")
    }
    let now = clock.nowMs()
    let revocationExpiry = self.revocationExpiry
    let outcome: RefreshOutcome = try await withStore { [self] store in
      try store.updateSession(handle: presented.sessionHandle) { record -> (SessionChange, RefreshOutcome) in
        switch rotation.decide(session: record, presented: presented, nowMs: now) {
        case .reject(let reason):
          return (.keep, .unauthorised(reason: reason))
        case .theftDetected:
          let record = record!
          return (
            .revoke(nowMs: now, revocationExpiresAtMs: revocationExpiry),
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
          var next: RefreshToken? = nil
          if decision == .rotate {
            let issued = RefreshToken.issue(sessionHandle: record.handle, familyKey: record.tokenFamilyKey)
            record.previousRefreshTokenHash2 = record.refreshTokenHash2
            record.rotatedAtMs = now
            record.refreshTokenHash2 = issued.hash2
            next = issued
          }
          let (accessToken, view) = try signAccessToken(
            session: record, customClaimsJSON: record.accessTokenPayloadJSON,
            refreshTokenHash1: next?.hash1 ?? presented.hash1,
            parentRefreshTokenHash1: next == nil ? nil : presented.hash1, nowMs: now)
          let refreshToken = next.map { IssuedToken(token: $0.text, expiresAtMs: record.expiresAtMs) }
          return (
            .replace(record),
            .ok(issued(view: view, accessToken: accessToken, refreshToken: refreshToken, record: record))
          )
        }
      }
    }

    switch outcome {
    case .tokenTheftDetected(let handle, _):
      revocations.insert([handle], expiresAtMs: revocationExpiry)
      logger.error("refresh token theft detected; session revoked", metadata: ["sessionHandle": "\(handle)"])
    case .ok(let issued):
      logger.info(
        issued.refreshToken == nil
          ? "session refreshed with the previous token inside the grace period" : "session refreshed",
        metadata: ["sessionHandle": "\(issued.session.handle)"])
    case .unauthorised:
      break
    }
    return outcome
  }
}
