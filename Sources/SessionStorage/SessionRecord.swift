extension SessionRecord {
  /// How long past its last access token's expiry a revoked session stays in the revocation log (clock skew).
  public static let revocationMarginMs: Int64 = 60_000

  /// When the revocation of this session may be forgotten.
  public func revocationExpiry(atLeast fallback: Int64) -> Int64 {
    max(fallback, lastAccessTokenExpiresAtMs > 0 ? lastAccessTokenExpiresAtMs + Self.revocationMarginMs : 0)
  }
}

/// One login session as stored: a row of the `refresh_token` table.
///
/// The refresh token itself is never stored; only `H2 = sha256(sha256(token))`, hex-encoded. The previous
/// token's hash is kept for the rotation grace period so that two tabs refreshing at once are not logged out.
public struct SessionRecord: Sendable, Equatable {
  public var handle: String
  public var userID: String
  /// Hex of sha256(sha256(current refresh token)).
  public var refreshTokenHash2: String
  /// Hex of sha256(sha256(previous refresh token)), kept for the rotation grace period.
  public var previousRefreshTokenHash2: String?
  /// When the previous token was replaced (ms since epoch); the grace period runs from here.
  public var rotatedAtMs: Int64?
  /// Random per-session key that authenticates refresh tokens issued for this session, so that a genuine
  /// old token (theft) can be told apart from a forged one (which must not revoke anything).
  public var tokenFamilyKey: [UInt8]
  public var sessionDataJSON: String
  /// The app's own access-token claims (a JSON object), without the protected claims.
  public var accessTokenPayloadJSON: String
  /// The anti-CSRF token bound into this session's access tokens, when anti-CSRF is enabled.
  public var antiCsrfToken: String?
  public var useStaticKey: Bool
  public var createdAtMs: Int64
  /// When the refresh token expires; slides to now + validity on every refresh.
  public var expiresAtMs: Int64
  /// Which refresh token of the session is current: tokens are derived from the session's family key and this
  /// counter, so the current one can be issued again (a retried refresh whose answer was lost). 0 marks a token
  /// issued before derivation existed (random, not derivable).
  public var refreshGeneration: Int64
  /// When the last access token issued for the session expires (0: not recorded, a row from before schema 3).
  /// A revocation is enforced at least until then, whatever the access-token validity is configured to today.
  public var lastAccessTokenExpiresAtMs: Int64

  public init(
    handle: String, userID: String, refreshTokenHash2: String, previousRefreshTokenHash2: String? = nil,
    rotatedAtMs: Int64? = nil, tokenFamilyKey: [UInt8], sessionDataJSON: String, accessTokenPayloadJSON: String,
    antiCsrfToken: String?, useStaticKey: Bool, createdAtMs: Int64, expiresAtMs: Int64, refreshGeneration: Int64 = 0,
    lastAccessTokenExpiresAtMs: Int64 = 0
  ) {
    self.lastAccessTokenExpiresAtMs = lastAccessTokenExpiresAtMs
    self.refreshGeneration = refreshGeneration
    self.handle = handle
    self.userID = userID
    self.refreshTokenHash2 = refreshTokenHash2
    self.previousRefreshTokenHash2 = previousRefreshTokenHash2
    self.rotatedAtMs = rotatedAtMs
    self.tokenFamilyKey = tokenFamilyKey
    self.sessionDataJSON = sessionDataJSON
    self.accessTokenPayloadJSON = accessTokenPayloadJSON
    self.antiCsrfToken = antiCsrfToken
    self.useStaticKey = useStaticKey
    self.createdAtMs = createdAtMs
    self.expiresAtMs = expiresAtMs
  }
}
