import OpenSSLCrypto
import SessionToken
import Testing

@Suite("Access-token verification")
struct AccessTokenVerifierTests {
  let verifier = AccessTokenVerifier()
  let keys = TokenForge.keys
  let now: Int64 = 1_800_000_000_000

  func reason(_ token: String, keys: some VerificationKeyLookup = TokenForge.keys) -> String? {
    guard case .invalid(let reason) = verifier.verify(token, keys: keys, nowMs: now) else { return nil }
    return reason
  }

  @Test func signedTokenVerifiesWithClaimsAndPayload() throws {
    let payload = try AccessTokenPayload.build(
      claims: AccessTokenClaims(
        subject: "user-9", expiresAt: 1_800_000_060, issuedAt: 1_800_000_000, sessionHandle: "sh",
        refreshTokenHash1: "rt1", parentRefreshTokenHash1: "prt", antiCsrfToken: nil
      ),
      customJSON: #"{"role":"admin"}"#
    )
    let token = try AccessTokenSigner.sign(payloadJSON: payload, kid: TokenForge.kid, key: TokenForge.key)
    let header = try #require(Base64URL.decode(token.split(separator: ".")[0]))
    #expect(String(decoding: header, as: UTF8.self) == TokenForge.header())
    guard case .valid(let verified) = verifier.verify(token, keys: keys, nowMs: now) else {
      Issue.record("a freshly signed token must verify")
      return
    }
    #expect(verified.kid == TokenForge.kid)
    #expect(verified.payloadJSON == payload)
    #expect(verified.claims.subject == "user-9")
    #expect(verified.claims.parentRefreshTokenHash1 == "prt")
    #expect(verified.claims.antiCsrfToken == nil)
  }

  @Test(arguments: [
    (1_800_000_000_999 as Int64, false), (1_800_000_001_000, true), (1_800_000_001_001, true), (0, false),
  ])
  func expiryBoundary(nowMs: Int64, expired: Bool) {
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload(exp: 1_800_000_001))
    switch verifier.verify(token, keys: keys, nowMs: nowMs) {
    case .valid: #expect(!expired)
    case .expired(let verified):
      #expect(expired)
      #expect(verified.claims.expiresAt == 1_800_000_001)
    case .invalid(let reason): Issue.record("unexpected invalid: \(reason)")
    case .unknownKey(let kid): Issue.record("unexpected unknown key: \(kid)")
    }
  }

  @Test func expiredTokenWithBadSignatureIsInvalidNotExpired() {
    var token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload(exp: 1))
    // Replace the signature's last character with another canonical one (the last character of a 256-byte
    // signature carries 2 data bits: A, Q, g or w), so the signature changes but stays well formed.
    let last = token.removeLast()
    token.append(last == "A" ? "Q" : "A")
    #expect(reason(token) == "invalid signature")
  }

  @Test func tamperedPayloadIsInvalidSignature() {
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    let parts = token.split(separator: ".")
    let forged = parts[0] + "." + TokenForge.b64(TokenForge.payload(extra: #","role":"admin""#)) + "." + parts[2]
    #expect(reason(String(forged)) == "invalid signature")
    let otherSigner = TokenForge.signed(
      header: TokenForge.header(), payload: TokenForge.payload(), signer: TokenForge.otherKey
    )
    #expect(reason(otherSigner) == "invalid signature")
  }

  @Test func algNoneIsRefused() {
    let header = TokenForge.b64(#"{"alg":"none","kid":"\#(TokenForge.kid)"}"#)
    let payload = TokenForge.b64(TokenForge.payload())
    #expect(reason(header + "." + payload + ".") == "malformed token")
    #expect(reason(header + "." + payload + ".AAAA") == "unsupported algorithm")
  }

  @Test func hs256WithThePublicKeyAsSecretIsRefused() throws {
    let input =
      TokenForge.b64(#"{"alg":"HS256","typ":"JWT","kid":"\#(TokenForge.kid)"}"#) + "."
      + TokenForge.b64(TokenForge.payload())
    for secret in [
      try TokenForge.key.publicKey.spkiPEM(), String(decoding: TokenForge.key.publicKey.modulus, as: UTF8.self),
    ] {
      let mac = HMACSHA256.authenticationCode(key: Array(secret.utf8), message: Array(input.utf8))
      #expect(reason(input + "." + Base64URL.encode(mac)) == "unsupported algorithm")
    }
  }

  @Test(arguments: [
    #"{"alg":"rs256","kid":"KID"}"#, #"{"alg":"RS512","kid":"KID"}"#, #"{"alg":"PS256","kid":"KID"}"#,
    #"{"alg":["RS256"],"kid":"KID"}"#, #"{"kid":"KID"}"#, #"{"alg":"RS256 ","kid":"KID"}"#,
  ])
  func otherAlgorithmsAreRefused(header: String) {
    let header = header.replacingOccurrences(of: "KID", with: TokenForge.kid)
    #expect(reason(TokenForge.signed(header: header, payload: TokenForge.payload())) == "unsupported algorithm")
  }

  @Test func keyRegisteredForAnotherAlgorithmIsAlgorithmMismatch() {
    let ps256Keys = JWKSet(keys: [
      VerificationKey(kid: TokenForge.kid, publicKey: TokenForge.key.publicKey, algorithm: "PS256")
    ])
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    #expect(reason(token, keys: ps256Keys) == "algorithm mismatch")
  }

  @Test(arguments: ["d-1", "", "../../etc/passwd", "' OR 1=1 --", "d-1700000000000 "])
  func unknownKidIsRefusedWithoutTryingOtherKeys(kid: String) {
    let token = TokenForge.signed(header: TokenForge.header(kid: kid), payload: TokenForge.payload())
    guard case .unknownKey(let named) = verifier.verify(token, keys: keys, nowMs: now) else {
      Issue.record("a token naming an unknown kid was not reported as such")
      return
    }
    #expect(named == kid)
  }

  @Test func missingOrNonStringKidIsRefused() {
    for header in [#"{"alg":"RS256","typ":"JWT"}"#, #"{"alg":"RS256","kid":1}"#, #"{"alg":"RS256","kid":null}"#] {
      #expect(reason(TokenForge.signed(header: header, payload: TokenForge.payload())) == "missing key id")
    }
  }

  @Test(arguments: ["jku", "x5u", "jwk", "crit", "x5c", "x5t", "x5t#S256"])
  func keySupplyingHeadersAreRefused(name: String) {
    let header = #"{"alg":"RS256","kid":"\#(TokenForge.kid)","\#(name)":"https://attacker.example/k"}"#
    #expect(reason(TokenForge.signed(header: header, payload: TokenForge.payload())) == "forbidden header")
  }

  @Test func duplicateKeysAndTrailingDataInHeaderAreRefused() {
    for header in [
      #"{"alg":"RS256","kid":"\#(TokenForge.kid)","alg":"none"}"#,
      #"{"alg":"RS256","kid":"\#(TokenForge.kid)","kid":"other"}"#,
      #"{"alg":"RS256","kid":"\#(TokenForge.kid)"}x"#,
      #"{"alg":"RS256","kid":"\#(TokenForge.kid)"}{}"#,
      #"["RS256"]"#,
    ] {
      #expect(reason(TokenForge.signed(header: header, payload: TokenForge.payload())) == "malformed token")
    }
  }

  @Test func duplicateKeysAndTrailingDataInPayloadAreMalformedClaims() {
    for payload in [
      TokenForge.payload(extra: #","sub":"admin""#), TokenForge.payload() + " x", TokenForge.payload() + "{}",
      TokenForge.payload(extra: #","o":{"a":1,"a":2}"#),
    ] {
      #expect(reason(TokenForge.signed(header: TokenForge.header(), payload: payload)) == "malformed claims")
    }
  }

  @Test(arguments: [
    #"{"exp":2000000000,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":1,"exp":2000000000,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":"2000000000","iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":2000000000.5,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":2e9,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":99999999999999999999,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":9223372036854775807,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":2000000000,"iat":1,"sessionHandle":null,"refreshTokenHash1":"r"}"#,
    #"{"sub":"u","exp":2000000000,"iat":1,"sessionHandle":"h"}"#,
    #"{"sub":"u","exp":2000000000,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r","antiCsrfToken":5}"#,
    #"{"sub":"u","exp":2000000000,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r","parentRefreshTokenHash1":{}}"#,
    "[]",
  ])
  func wrongClaimTypesAreMalformedClaims(payload: String) {
    #expect(reason(TokenForge.signed(header: TokenForge.header(), payload: payload)) == "malformed claims")
  }

  @Test func optionalClaimsMayBeAbsent() {
    let payload = #"{"sub":"u","exp":2000000000,"iat":1,"sessionHandle":"h","refreshTokenHash1":"r"}"#
    guard
      case .valid(let verified) = verifier.verify(
        TokenForge.signed(header: TokenForge.header(), payload: payload), keys: keys, nowMs: now)
    else {
      Issue.record("absent nullable claims are allowed")
      return
    }
    #expect(verified.claims.antiCsrfToken == nil && verified.claims.parentRefreshTokenHash1 == nil)
  }

  @Test func shapeAndEncodingAreStrict() {
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let malformed = [
      "", ".", "..", parts[0], parts[0] + "." + parts[1], token + ".", token + ".x", "." + parts[1] + "." + parts[2],
      parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".", parts[0] + "=." + parts[1] + "." + parts[2],
      parts[0] + "." + parts[1] + "." + parts[2] + "=", " " + token, token + "\n",
      parts[0] + "." + parts[1].replacingOccurrences(of: "_", with: "/") + "." + parts[2] + "+",
    ]
    for candidate in malformed {
      #expect(reason(candidate) == "malformed token", "\(candidate.count) bytes")
    }
  }

  @Test func signatureOfTheWrongLengthIsRefused() {
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    let parts = token.split(separator: ".")
    let signature = Base64URL.decode(parts[2])!
    for wrong in [[0] + signature, Array(signature.dropFirst()), []] where !wrong.isEmpty {
      #expect(reason(parts[0] + "." + parts[1] + "." + Base64URL.encode(wrong)) == "invalid signature")
    }
  }

  @Test func oversizedTokenIsRefusedBeforeAnyWork() {
    let small = AccessTokenVerifier(maxTokenBytes: 100)
    let token = TokenForge.signed(header: TokenForge.header(), payload: TokenForge.payload())
    guard case .invalid(let reason) = small.verify(token, keys: keys, nowMs: now) else {
      Issue.record("an oversized token must be refused")
      return
    }
    #expect(reason == "token too large")
    #expect(self.reason(String(repeating: "A", count: 16 * 1024 + 1)) == "token too large")
    let exactlyAtLimit = AccessTokenVerifier(maxTokenBytes: token.utf8.count)
    guard case .valid = exactlyAtLimit.verify(token, keys: keys, nowMs: now) else {
      Issue.record("a token at the limit is allowed")
      return
    }
  }

  @Test func reasonsNeverEchoTheToken() {
    let token = TokenForge.signed(header: TokenForge.header(kid: "secret-kid"), payload: TokenForge.payload())
    let why = reason(token) ?? ""
    #expect(!why.contains("secret-kid") && !why.contains(token.prefix(20)))
  }
}
