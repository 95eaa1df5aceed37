/// An access token whose signature and claims checked out. `payloadJSON` is the payload exactly as signed, so
/// the app's own claims reach the caller unchanged.
public struct VerifiedAccessToken: Sendable {
  public let kid: String
  public let claims: AccessTokenClaims
  public let payloadJSON: String
}

/// The verifier's answer. `.expired` is only given for an authentic token, so the caller may answer
/// TRY_REFRESH_TOKEN; `.invalid` carries a short reason that never quotes the token.
public enum AccessTokenVerification: Sendable {
  case valid(VerifiedAccessToken)
  case expired(VerifiedAccessToken)
  case invalid(reason: String)
  /// Well formed, but signed (so it claims) by a key the set does not hold: forged, or a key retired after
  /// every token it signed expired. The caller decides which answer fits; the signature was not checked.
  case unknownKey(kid: String)
}

/// Verifies SuperTokens v5 access tokens: the `JWSVerifier` rules (size, shape, canonical base64url, strict
/// header, RS256 only, known kid, matching algorithm, valid signature), then a strict JSON payload with the
/// session claims of the right types, and only then expiry. Cheap checks run first so garbage costs little.
public struct AccessTokenVerifier: Sendable {
  public let maxTokenBytes: Int

  public init(maxTokenBytes: Int = 16 * 1024) {
    self.maxTokenBytes = maxTokenBytes
  }

  /// `nowMs` is milliseconds since the epoch; a token is expired from the millisecond `exp * 1000` on.
  public func verify(_ token: String, keys: some VerificationKeyLookup, nowMs: Int64) -> AccessTokenVerification {
    let jws: JWSVerifier.VerifiedJWS
    switch JWSVerifier.verify(token, keys: keys, maxTokenBytes: maxTokenBytes, allowEmptyPayload: false) {
    case .verified(let verified): jws = verified
    case .rejected(let reason): return .invalid(reason: reason)
    case .unknownKey(let kid): return .unknownKey(kid: kid)
    }
    let claims: AccessTokenClaims? = jws.payload.withUnsafeBytes { bytes in
      guard let members = try? StrictJSON.members(ofObject: bytes) else { return nil }
      return AccessTokenClaims(members: members, in: bytes)
    }
    guard let claims else { return .invalid(reason: "malformed claims") }
    let (expiresAtMs, overflow) = claims.expiresAt.multipliedReportingOverflow(by: 1000)
    guard !overflow else { return .invalid(reason: "malformed claims") }
    let verified = VerifiedAccessToken(
      kid: jws.key.kid,
      claims: claims,
      payloadJSON: String(decoding: jws.payload, as: UTF8.self)
    )
    return nowMs >= expiresAtMs ? .expired(verified) : .valid(verified)
  }
}
