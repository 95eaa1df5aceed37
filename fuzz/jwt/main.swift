// Fuzz target `jwt`: compiled into module SessionToken with Sources/SessionToken and fuzz/TokenKeys.swift,
// linked with OpenSSLCrypto (scripts/fuzz.sh).
//
// Input: the token string as it arrives (bytes as UTF-8; invalid sequences become U+FFFD as they would in a
// Swift String built from the request). Verified against a fixed key set (FuzzTokenKeys: one RS256 key the
// seeds are signed with, another RS256 key, and that key again bound to PS256).
// Checks:
//   - AccessTokenVerifier.verify never traps; its `invalid` reasons are the fixed, non-quoting ones;
//     `unknownKey` only for a kid the set lacks; tokens over the size cap are refused as too large;
//   - it agrees with JWSVerifier.verifiedPayload (same checks, payload unparsed) and with an
//     OfflineAccessTokenVerifier built from the set's published JWKS;
//   - an accepted token is canonical: each segment is the canonical base64url of its bytes, so no other string
//     verifies as the same token; its payloadJSON is exactly the signed payload and its claims are what the
//     payload says;
//   - Base64URL: every segment that decodes re-encodes to itself, and encode/decode round-trips the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func jwtFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  JWTFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum JWTFuzz {
  static let nowMs: Int64 = 1_800_000_000_000
  static let verifier = AccessTokenVerifier()
  static let offline = try! OfflineAccessTokenVerifier(jwksJSON: FuzzTokenKeys.rs256KeySet.json)
  static let reasons: Set<String> = [
    "token too large", "malformed token", "forbidden header", "unsupported algorithm", "missing key id",
    "algorithm mismatch", "invalid signature", "malformed claims",
  ]

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    let token = String(decoding: input, as: UTF8.self)
    let result = verifier.verify(token, keys: FuzzTokenKeys.keySet, nowMs: nowMs)
    let payload = JWSVerifier.verifiedPayload(token, keys: FuzzTokenKeys.keySet)

    switch result {
    case .valid(let verified), .expired(let verified):
      fuzzCheck(payload.map { $0 == Array(verified.payloadJSON.utf8) } ?? false, "JWSVerifier disagrees on \(token)")
      checkAccepted(token, verified, expired: { if case .expired = result { true } else { false } }())
    case .invalid(let reason):
      fuzzCheck(reasons.contains(reason), "unexpected reason \(reason.debugDescription)")
      if token.utf8.count > verifier.maxTokenBytes { fuzzCheck(reason == "token too large", "large token: \(reason)") }
      if payload != nil {
        // Signature fine: only the claims (or an empty payload, which JWS allows) can have failed.
        fuzzCheck(reason == "malformed claims" || reason == "malformed token", "verified JWS refused: \(reason)")
      }
    case .unknownKey(let kid):
      fuzzCheck(FuzzTokenKeys.keySet.verificationKey(kid: Substring(kid)) == nil, "unknownKey for a known kid \(kid)")
      fuzzCheck(payload == nil, "JWSVerifier accepted a token naming an unknown key")
    }

    // The offline verifier (a JWKS client) gives the same answers on the same RS256 keys.
    let direct = verifier.verify(token, keys: FuzzTokenKeys.rs256KeySet, nowMs: nowMs)
    let viaJWKS = offline.verify(token, nowMs: nowMs)
    fuzzCheck(summary(direct) == summary(viaJWKS), "offline verifier: \(summary(viaJWKS)) vs \(summary(direct))")

    for segment in token.split(separator: ".", omittingEmptySubsequences: false).prefix(4) {
      if let bytes = Base64URL.decode(segment) {
        fuzzCheck(Base64URL.encode(bytes) == segment, "\(segment) decodes but is not canonical")
      }
    }
    let bytes = Array(input)
    let encoded = Base64URL.encode(bytes)
    fuzzCheck(Base64URL.decode(Substring(encoded)) == bytes, "Base64URL round trip")
    fuzzCheck(encoded.utf8.count == (bytes.count * 4 + 2) / 3, "Base64URL length")
  }

  static func checkAccepted(_ token: String, _ verified: VerifiedAccessToken, expired: Bool) {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    fuzzCheck(parts.count == 3, "accepted token without three segments")
    for part in parts {
      let decoded = Base64URL.decode(part)
      fuzzCheck(decoded.map { Base64URL.encode($0) == part } ?? false, "accepted token has a non-canonical segment")
    }
    fuzzCheck(verified.kid == FuzzTokenKeys.kid, "accepted under kid \(verified.kid)")
    let payload = Base64URL.decode(parts[1]) ?? []
    fuzzCheck(Array(verified.payloadJSON.utf8) == payload, "payloadJSON is not the signed payload")
    let claims: AccessTokenClaims? = payload.withUnsafeBytes { bytes in
      guard let members = try? StrictJSON.members(ofObject: bytes) else { return nil }
      return AccessTokenClaims(members: members, in: bytes)
    }
    fuzzCheck(claims == verified.claims, "claims differ from the payload's")
    fuzzCheck(expired == (nowMs >= verified.claims.expiresAt * 1000), "expiry decided wrongly")
  }

  static func summary(_ verification: AccessTokenVerification) -> String {
    switch verification {
    case .valid(let token): "valid \(token.kid) \(token.claims) \(token.payloadJSON)"
    case .expired(let token): "expired \(token.kid) \(token.claims) \(token.payloadJSON)"
    case .invalid(let reason): "invalid \(reason)"
    case .unknownKey(let kid): "unknown key \(kid)"
    }
  }
}
