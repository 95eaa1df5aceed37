import SessionCore
import SessionToken

/// Rows 2–4: the layers of the verify path, each called in a loop on one thread, all on the fixture's token.
struct VerifyPathBenchmarks {
  struct Results {
    /// Row 2: `RSAPublicKey.isValidSHA256Signature` over the token's signing input (SHA-256 of it included).
    let bareSignatureCheck: Measurement
    /// Row 3: `AccessTokenVerifier.verify`: split, base64url, strict header and payload JSON, claims, RSA.
    let accessTokenVerifier: Measurement
    /// Row 4: `SessionService.verify`: row 3 on the real key ring, plus clock, revocation and the session view.
    let sessionService: Measurement
  }

  let fixture: VerifyPathFixture
  let warmup: Duration
  let duration: Duration

  func run() throws -> Results {
    let token = fixture.accessToken
    let nowMs = SystemClock().nowMs()
    guard let lastDot = token.lastIndex(of: "."),
      let signature = Base64URL.decode(token[token.index(after: lastDot)...]),
      case .valid(let verified) = AccessTokenVerifier().verify(token, keys: fixture.keyRing, nowMs: nowMs),
      let key = fixture.keyRing.verificationKey(kid: Substring(verified.kid))
    else { throw BenchmarkError.setupFailed("the fixture's token does not verify") }
    let signingInput = Array(token[..<lastDot].utf8)
    let publicKey = key.publicKey
    let keys = FixedKeyLookup(keys: fixture.keyRing.snapshot.keys.map(\.verificationKey))
    let verifier = AccessTokenVerifier()
    let service = fixture.service

    let measured = try measureInterleaved(
      [
        ("RSAPublicKey.isValidSHA256Signature", { publicKey.isValidSHA256Signature(signature, message: signingInput) }),
        (
          "AccessTokenVerifier.verify",
          {
            guard case .valid = verifier.verify(token, keys: keys, nowMs: nowMs) else { return false }
            return true
          }
        ),
        (
          "SessionService.verify",
          {
            guard
              case .ok = service.verify(
                accessToken: token, antiCsrfToken: "", doAntiCsrfCheck: false, checkDatabase: false)
            else { return false }
            return true
          }
        ),
      ], rounds: 6, warmup: warmup, duration: duration)
    return Results(bareSignatureCheck: measured[0], accessTokenVerifier: measured[1], sessionService: measured[2])
  }
}
