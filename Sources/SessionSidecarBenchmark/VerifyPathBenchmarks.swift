import SessionCore
import SessionToken

/// Rows 2–4: the layers of the verify path, each called in a loop on one thread.
struct VerifyPathBenchmarks {
  let fixture: VerifyPathFixture
  let warmup: Duration
  let duration: Duration

  /// Row 2: `RSAPublicKey.isValidSHA256Signature` over the token's signing input (SHA-256 of it included).
  func bareSignatureCheck() throws -> Measurement {
    let token = fixture.accessToken
    guard let lastDot = token.lastIndex(of: "."),
      let signature = Base64URL.decode(token[token.index(after: lastDot)...]),
      case .valid(let verified) = AccessTokenVerifier().verify(
        token, keys: fixture.keyRing, nowMs: SystemClock().nowMs()),
      let key = fixture.keyRing.verificationKey(kid: Substring(verified.kid))
    else { throw BenchmarkError.setupFailed("the fixture's token does not verify") }
    let signingInput = Array(token[..<lastDot].utf8)
    let publicKey = key.publicKey
    return try measure("RSA signature check", warmup: warmup, duration: duration) {
      publicKey.isValidSHA256Signature(signature, message: signingInput)
    }
  }

  /// Row 3: `AccessTokenVerifier.verify`: split, base64url, strict header and payload JSON, claims, RSA.
  func accessTokenVerifier() throws -> Measurement {
    let token = fixture.accessToken
    let keys = FixedKeyLookup(keys: fixture.keyRing.snapshot.keys.map(\.verificationKey))
    let verifier = AccessTokenVerifier()
    let nowMs = SystemClock().nowMs()
    return try measure("AccessTokenVerifier.verify", warmup: warmup, duration: duration) {
      guard case .valid = verifier.verify(token, keys: keys, nowMs: nowMs) else { return false }
      return true
    }
  }

  /// Row 4: `SessionService.verify`: row 3 on the real key ring, plus clock, revocation and the session view.
  func sessionService() throws -> Measurement {
    let token = fixture.accessToken
    let service = fixture.service
    return try measure("SessionService.verify", warmup: warmup, duration: duration) {
      guard
        case .ok = service.verify(accessToken: token, antiCsrfToken: "", doAntiCsrfCheck: false, checkDatabase: false)
      else { return false }
      return true
    }
  }
}
