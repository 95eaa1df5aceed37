/// Checks compact JWS tokens signed with RS256 against keys found by kid, and returns the payload unparsed.
/// `AccessTokenVerifier` is built on the same checks. Rules, cheapest first: size cap before any work; three
/// segments with non-empty header and signature; canonical base64url; a strict JSON header whose `alg` is
/// exactly "RS256" and whose `kid` is a string; no `crit`, `jku`, `x5u`, `jwk`, `x5c`, `x5t`, `x5t#S256`
/// (keys are never fetched or taken from the token); the kid names a known key whose algorithm equals the
/// header's; the signature is exactly modulus-size and valid.
public enum JWSVerifier {
  /// The payload bytes of `compact` if it passes every rule above, else nil. RFC 7515 allows an empty payload,
  /// so one is accepted here (access tokens refuse it, as their payload must be a JSON object).
  public static func verifiedPayload(
    _ compact: String,
    keys: some VerificationKeyLookup,
    maxTokenBytes: Int = 16 * 1024
  ) -> [UInt8]? {
    guard case .verified(let jws) = verify(compact, keys: keys, maxTokenBytes: maxTokenBytes, allowEmptyPayload: true)
    else { return nil }
    return jws.payload
  }

  /// A JWS that passed every check.
  struct VerifiedJWS {
    let key: VerificationKey
    let payload: [UInt8]
  }

  enum Outcome {
    case verified(VerifiedJWS)
    case rejected(reason: String)
    /// The header is well formed but names a key that is not in the set; nothing else was checked.
    case unknownKey(kid: String)
  }

  /// Header members whose presence refuses the token: each would make the verifier trust something the token
  /// itself supplies (a key, a URL to fetch one from, or extensions it must understand).
  static let forbiddenHeaderNames: Set<String> = ["crit", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"]

  static func verify(
    _ compact: String,
    keys: some VerificationKeyLookup,
    maxTokenBytes: Int,
    allowEmptyPayload: Bool
  ) -> Outcome {
    guard compact.utf8.count <= maxTokenBytes else { return .rejected(reason: "token too large") }
    var compact = compact
    return compact.withUTF8 { utf8 in
      verify(UnsafeRawBufferPointer(utf8), keys: keys, allowEmptyPayload: allowEmptyPayload)
    }
  }

  private static func verify(
    _ token: UnsafeRawBufferPointer,
    keys: some VerificationKeyLookup,
    allowEmptyPayload: Bool
  ) -> Outcome {
    guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")),
      let secondDot = token[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
      token[(secondDot + 1)...].firstIndex(of: UInt8(ascii: ".")) == nil,
      firstDot > 0, secondDot + 1 < token.count, allowEmptyPayload || secondDot > firstDot + 1
    else { return .rejected(reason: "malformed token") }

    guard let header = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[..<firstDot])),
      let payload = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])),
      let signature = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(secondDot + 1)...]))
    else { return .rejected(reason: "malformed token") }

    let key: VerificationKey
    switch checkHeader(header, keys: keys) {
    case .success(let found): key = found
    case .failure(let rejection):
      if let kid = rejection.unknownKid { return .unknownKey(kid: kid) }
      return .rejected(reason: rejection.reason)
    }

    guard signature.count == key.publicKey.modulus.count else {
      return .rejected(reason: "invalid signature")
    }
    let signingInput = UnsafeRawBufferPointer(rebasing: token[..<secondDot])
    let valid = signature.withUnsafeBytes { key.publicKey.isValidSHA256Signature($0, message: signingInput) }
    guard valid else { return .rejected(reason: "invalid signature") }
    return .verified(VerifiedJWS(key: key, payload: payload))
  }

  struct Rejection: Error {
    let reason: String
    var unknownKid: String? = nil
  }

  /// Parses the header strictly and finds the key it names.
  private static func checkHeader(
    _ header: [UInt8],
    keys: some VerificationKeyLookup
  ) -> Result<VerificationKey, Rejection> {
    header.withUnsafeBytes { bytes in
      guard let members = try? StrictJSON.members(ofObject: bytes) else {
        return .failure(Rejection(reason: "malformed token"))
      }
      var algorithm: String? = nil
      var kid: String? = nil
      for member in members {
        if forbiddenHeaderNames.contains(member.name) { return .failure(Rejection(reason: "forbidden header")) }
        switch member.name {
        case "alg": algorithm = StrictJSON.string(member.value, in: bytes)
        case "kid":
          guard let value = StrictJSON.string(member.value, in: bytes) else {
            return .failure(Rejection(reason: "missing key id"))
          }
          kid = value
        default: break
        }
      }
      guard algorithm == "RS256" else { return .failure(Rejection(reason: "unsupported algorithm")) }
      guard let kid else { return .failure(Rejection(reason: "missing key id")) }
      guard let key = keys.verificationKey(kid: Substring(kid)), key.kid == kid else {
        return .failure(Rejection(reason: "unknown signing key", unknownKid: kid))
      }
      guard key.algorithm == algorithm else { return .failure(Rejection(reason: "algorithm mismatch")) }
      return .success(key)
    }
  }
}
