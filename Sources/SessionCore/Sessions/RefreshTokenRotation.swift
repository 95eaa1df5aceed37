import OpenSSLCrypto
import SessionStorage

/// The refresh rule: which presented refresh token is accepted, and when reuse means theft.
///
/// - The current token rotates: a new token is issued and the presented one becomes "previous".
/// - The previous token, inside the grace period after it was replaced, is accepted without rotating again
///   (two tabs refreshing at once): no second live branch is created.
/// - Any other genuine token of the session (older, or previous after the grace) is theft: revoke.
/// - A token that is not genuine, an unknown or expired session: refused, nothing changes.
public struct RefreshTokenRotation: Sendable {
  public enum Decision: Sendable, Equatable {
    case rotate
    case acceptPreviousInGrace
    case theftDetected
    case reject(reason: String)
  }

  public var gracePeriodMs: Int64

  public init(gracePeriodMs: Int64) { self.gracePeriodMs = gracePeriodMs }

  public func decide(session: SessionRecord?, presented: RefreshToken, nowMs: Int64) -> Decision {
    guard let session else { return .reject(reason: "session does not exist or was revoked") }
    guard session.expiresAtMs > nowMs else { return .reject(reason: "refresh token expired") }
    let hash2 = presented.hash2
    if constantTimeEquals(Array(hash2.utf8), Array(session.refreshTokenHash2.utf8)) { return .rotate }
    if let previous = session.previousRefreshTokenHash2, let rotatedAt = session.rotatedAtMs,
      constantTimeEquals(Array(hash2.utf8), Array(previous.utf8))
    {
      return nowMs - rotatedAt <= gracePeriodMs ? .acceptPreviousInGrace : .theftDetected
    }
    return presented.isAuthentic(familyKey: session.tokenFamilyKey)
      ? .theftDetected : .reject(reason: "invalid refresh token")
  }
}
