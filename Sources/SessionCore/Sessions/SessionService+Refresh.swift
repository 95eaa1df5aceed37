import OpenSSLCrypto
import SessionStorage

extension SessionService {
  private enum RefreshStep: Sendable {
    case rotated(SessionRecord, RefreshToken)
    case acceptedPrevious(SessionRecord)
    case theft(handle: String, userID: String)
    case refused(String)
  }

  /// RefreshSession: rotation with theft detection. The decision and the row change happen under the
  /// store's row lock, so concurrent refreshes of one session (on any sidecar) are serialized.
  public func refreshSession(refreshToken text: String, antiCsrfToken: String) throws(SessionError) -> RefreshOutcome {
    guard !text.isEmpty else { throw .invalidArgument("refresh_token is empty") }
    guard let presented = RefreshToken(parsing: text) else {
      return .unauthorised(reason: "malformed refresh token")
    }
    let now = clock.nowMs()
    let revocationExpiry = self.revocationExpiry
    let step: RefreshStep = try withStore {
      try store.updateSession(handle: presented.sessionHandle) { record -> (SessionChange, RefreshStep) in
        switch rotation.decide(session: record, presented: presented, nowMs: now) {
        case .reject(let reason):
          return (.keep, .refused(reason))
        case .theftDetected:
          let record = record!
          return (
            .revoke(nowMs: now, revocationExpiresAtMs: revocationExpiry),
            .theft(handle: record.handle, userID: record.userID)
          )
        case let decision:
          var record = record!
          if let expected = record.antiCsrfToken,
            antiCsrfToken.isEmpty || !constantTimeEquals(Array(antiCsrfToken.utf8), Array(expected.utf8))
          {
            return (.keep, .refused("anti-CSRF token missing or wrong"))
          }
          record.expiresAtMs = now + config.refreshTokenValidityMs
          guard decision == .rotate else { return (.replace(record), .acceptedPrevious(record)) }
          let next = RefreshToken.issue(sessionHandle: record.handle, familyKey: record.tokenFamilyKey)
          record.previousRefreshTokenHash2 = record.refreshTokenHash2
          record.rotatedAtMs = now
          record.refreshTokenHash2 = next.hash2
          return (.replace(record), .rotated(record, next))
        }
      }
    }

    switch step {
    case .refused(let reason):
      return .unauthorised(reason: reason)
    case .theft(let handle, let userID):
      revocations.insert([handle], expiresAtMs: revocationExpiry)
      logger.error("refresh token theft detected; session revoked", metadata: ["sessionHandle": "\(handle)"])
      return .tokenTheftDetected(sessionHandle: handle, userID: userID)
    case .rotated(let record, let next):
      let (accessToken, view) = try signAccessToken(
        session: record, customClaimsJSON: record.accessTokenPayloadJSON, refreshTokenHash1: next.hash1,
        parentRefreshTokenHash1: presented.hash1, nowMs: now)
      logger.info("session refreshed", metadata: ["sessionHandle": "\(record.handle)"])
      return .ok(
        issued(
          view: view, accessToken: accessToken,
          refreshToken: IssuedToken(token: next.text, expiresAtMs: record.expiresAtMs), record: record))
    case .acceptedPrevious(let record):
      let (accessToken, view) = try signAccessToken(
        session: record, customClaimsJSON: record.accessTokenPayloadJSON, refreshTokenHash1: presented.hash1,
        parentRefreshTokenHash1: nil, nowMs: now)
      logger.info("session refreshed with the previous token inside the grace period",
        metadata: ["sessionHandle": "\(record.handle)"])
      return .ok(issued(view: view, accessToken: accessToken, refreshToken: nil, record: record))
    }
  }
}
