// Fuzz target `jwt_signed`: compiled into module SessionToken with Sources/SessionToken and
// fuzz/TokenKeys.swift, linked with OpenSSLCrypto (scripts/fuzz.sh).
//
// A fuzzer cannot forge an RS256 signature, so `jwt` never gets past the signature check with anything but
// the seeds. This target signs what it is given: the header and payload come from the input, the signature
// from the fixed key; it is here to reach the header rules and the claims behind a valid signature.
// An RSA-2048 signature costs about 0.7 ms (OpenSSL), several times the rest of an input, so an input is signed
// only when the verifier gets as far as the signature: it is first verified with a decoy, a genuine signature
// by the same key over another message. The decoy must never be accepted; "invalid signature" means the
// verifier reached the signature check, and the input is signed and verified again for the checks below. Any
// other answer was given before the signature was looked at (JWSVerifier checks it last), so it is the answer
// the signed token gets too; one such input in 32 (by a hash of the input) is signed anyway to check exactly
// that. Signatures are kept by signing input (PKCS #1 v1.5 is deterministic), for inputs the fuzzer repeats.
// Input: one control byte, then the segments.
//   control & 1 == 0   the rest is the payload; the header is the one AccessTokenSigner writes
//   control & 1 == 1   the rest is header, a 0x00 byte, then payload (no 0x00: all header, empty payload)
//   control & 2        also check a copy with one signature character changed
// Checks:
//   - the decoy signature is never accepted, and an answer given with it before the signature check is the
//     signed token's answer too (one input in 32);
//   - with the signer's header, the outcome is exactly what the payload says: valid or expired (from exp) when
//     it is a strict JSON object with the session claims of the right types, "malformed claims" otherwise,
//     "malformed token" for an empty payload;
//   - any header: an accepted token names the signing key's kid with alg RS256, carries none of the forbidden
//     members, and its payloadJSON is exactly the signed bytes; unknownKey only for kids the set lacks;
//   - accepted claims survive AccessTokenPayload.build(claims:customJSON: customClaims(ofPayload:)) unchanged
//     (what the sidecar does when it regenerates a token), and the rebuilt payload signs and verifies again;
//   - a changed signature is never accepted.
@_cdecl("LLVMFuzzerTestOneInput")
public func jwtSignedFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  JWTSignedFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum JWTSignedFuzz {
  static let nowMs: Int64 = 1_800_000_000_000
  static let verifier = AccessTokenVerifier()
  static let signerHeader = Array(
    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"\(FuzzTokenKeys.kid)\",\"version\":\"5\"}".utf8)

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let control = reader.byte()
    let rest = Array(reader.rest())
    let header: [UInt8]
    let payload: [UInt8]
    if control & 1 == 0 {
      header = signerHeader
      payload = rest
    } else if let zero = rest.firstIndex(of: 0) {
      header = Array(rest[..<zero])
      payload = Array(rest[(zero + 1)...])
    } else {
      header = rest
      payload = []
    }
    let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
    var token = signingInput + "." + decoySignature
    var result = verifier.verify(token, keys: FuzzTokenKeys.keySet, nowMs: nowMs)
    let reachedSignature: Bool
    switch result {
    case .valid, .expired: return fuzzCheck(false, "a signature made for another message verified")
    case .invalid(let reason): reachedSignature = reason == "invalid signature"
    case .unknownKey: reachedSignature = false
    }
    if reachedSignature {
      token = signingInput + "." + signature(of: signingInput)
      result = verifier.verify(token, keys: FuzzTokenKeys.keySet, nowMs: nowMs)
    } else if spotCheck(input) {
      let signed = verifier.verify(signingInput + "." + signature(of: signingInput), keys: FuzzTokenKeys.keySet, nowMs: nowMs)
      fuzzCheck(
        String(describing: signed) == String(describing: result),
        "refused before the signature check (\(result)), but \(signed) once signed")
    }

    let expectedClaims: AccessTokenClaims? = payload.withUnsafeBytes { bytes in
      guard let members = try? StrictJSON.members(ofObject: bytes) else { return nil }
      return AccessTokenClaims(members: members, in: bytes)
    }
    if header == signerHeader {
      switch result {
      case .valid(let verified), .expired(let verified):
        fuzzCheck(expectedClaims == verified.claims, "claims differ from the payload's")
        let expired = if case .expired = result { true } else { false }
        fuzzCheck(expired == (nowMs >= verified.claims.expiresAt * 1000), "expiry decided wrongly")
      case .invalid(let reason):
        if payload.isEmpty {
          fuzzCheck(reason == "malformed token", "empty payload: \(reason)")
        } else {
          let overflows = expectedClaims.map { $0.expiresAt.multipliedReportingOverflow(by: 1000).overflow } ?? true
          fuzzCheck(reason == "malformed claims" && overflows, "signed token with good header refused: \(reason)")
        }
      case .unknownKey(let kid):
        fuzzCheck(false, "the signer's kid reported unknown: \(kid)")
      }
    }

    switch result {
    case .valid(let verified), .expired(let verified):
      checkHeader(header)
      fuzzCheck(Array(verified.payloadJSON.utf8) == payload, "payloadJSON is not the signed payload")
      fuzzCheck(JWSVerifier.verifiedPayload(token, keys: FuzzTokenKeys.keySet) == payload, "JWSVerifier disagrees")
      checkRebuild(verified)
    case .invalid:
      break
    case .unknownKey(let kid):
      fuzzCheck(FuzzTokenKeys.keySet.verificationKey(kid: Substring(kid)) == nil, "unknownKey for a known kid \(kid)")
    }

    if control & 2 != 0 {
      var tampered = token
      let last = tampered.removeLast()
      tampered.append(last == "A" ? "Q" : "A")
      switch verifier.verify(tampered, keys: FuzzTokenKeys.keySet, nowMs: nowMs) {
      case .valid, .expired: fuzzCheck(false, "a changed signature verified")
      case .invalid, .unknownKey: break
      }
    }
  }

  /// A genuine signature by the signing key, over a message no input produces (it has no "." in it).
  static let decoySignature = Base64URL.encode(try! FuzzTokenKeys.signingKey.signSHA256(Array("decoy".utf8)))

  /// Signatures already made, by signing input (cleared when full).
  nonisolated(unsafe) static var signatures: [String: String] = [:]

  static func signature(of signingInput: String) -> String {
    if let known = signatures[signingInput] { return known }
    let signature = Base64URL.encode(try! FuzzTokenKeys.signingKey.signSHA256(Array(signingInput.utf8)))
    if signatures.count >= 4096 { signatures.removeAll(keepingCapacity: true) }
    signatures[signingInput] = signature
    return signature
  }

  /// One input in 32, chosen by an FNV-1a hash of its bytes (so a replayed input takes the same path).
  static func spotCheck(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash >> 59 == 0
  }

  /// What an accepted header must say.
  static func checkHeader(_ header: [UInt8]) {
    header.withUnsafeBytes { bytes in
      guard let members = try? StrictJSON.members(ofObject: bytes) else {
        return fuzzCheck(false, "accepted header is not a strict JSON object")
      }
      var alg: String? = nil
      var kid: String? = nil
      for member in members {
        fuzzCheck(!JWSVerifier.forbiddenHeaderNames.contains(member.name), "accepted header has \(member.name)")
        if member.name == "alg" { alg = StrictJSON.string(member.value, in: bytes) }
        if member.name == "kid" { kid = StrictJSON.string(member.value, in: bytes) }
      }
      fuzzCheck(alg == "RS256", "accepted header alg \(String(describing: alg))")
      fuzzCheck(kid == FuzzTokenKeys.kid, "accepted header kid \(String(describing: kid))")
    }
  }

  /// Regenerating a token keeps the session's claims and the app's own claims.
  static func checkRebuild(_ verified: VerifiedAccessToken) {
    let custom = AccessTokenPayload.customClaims(ofPayload: verified.payloadJSON)
    let rebuilt: String
    do {
      rebuilt = try AccessTokenPayload.build(claims: verified.claims, customJSON: custom)
    } catch {
      return fuzzCheck(false, "customClaims of an accepted payload are refused by build: \(error)")
    }
    let again = Array(rebuilt.utf8).withUnsafeBytes { bytes -> AccessTokenClaims? in
      guard let members = try? StrictJSON.members(ofObject: bytes) else { return nil }
      return AccessTokenClaims(members: members, in: bytes)
    }
    fuzzCheck(again == verified.claims, "claims changed through build(): \(rebuilt)")
    fuzzCheck(
      AccessTokenPayload.customClaims(ofPayload: rebuilt) == custom, "custom claims changed through build()")
    let token: String
    do {
      token = try AccessTokenSigner.sign(payloadJSON: rebuilt, kid: FuzzTokenKeys.kid, key: FuzzTokenKeys.signingKey)
    } catch {
      return fuzzCheck(false, "AccessTokenSigner refused a rebuilt payload: \(error)")
    }
    switch verifier.verify(token, keys: FuzzTokenKeys.keySet, nowMs: nowMs) {
    case .valid(let again), .expired(let again):
      fuzzCheck(again.claims == verified.claims && again.payloadJSON == rebuilt, "re-signed token differs")
    case .invalid(let reason): fuzzCheck(false, "re-signed token refused: \(reason)")
    case .unknownKey: fuzzCheck(false, "re-signed token: unknown key")
    }
  }
}
