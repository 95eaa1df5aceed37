import Foundation
import OpenSSLCrypto
import SessionToken
import TestSupport
import Testing

/// Wycheproof `json_web_signature_test.json` through `JWSVerifier`.
///
/// Groups run: those whose `public` key is an RSA key with `alg` RS256 or no `alg` (rs256, rfc7520,
/// rfc7520WithKeyOps and the two rsa_encryption groups). Each group's key goes through `JWKSet(json:)` exactly
/// as published; every one already carries the kid its tokens name, so no kid is invented. A group whose key
/// the strict JWKS reader refuses (`use: enc`, `key_ops: [encrypt]`) verifies nothing, so each of its tests
/// counts as rejected. Tests in JSON serialization (not compact) are rejected by construction.
/// Groups for other algorithms (RS384/RS512/PS*) are run too, each key registered under its kid with its own
/// `alg`: every token must be refused, those valid for their own algorithm (unsupported) as well as tcId 332,
/// an RS256 token made with a PS512-only key (algorithm mismatch).
@Suite("Wycheproof JSON Web Signature, RSA groups")
struct JWSWycheproofTests {
  struct Counts {
    var ran = 0
    var valid = 0
    var invalid = 0
  }

  @Test("RS256 groups: every valid accepted, every invalid rejected")
  func rs256Groups() throws {
    guard let file = try WycheproofVectors.load("json_web_signature_test.json") else { return }
    var counts = Counts()
    for group in try #require(file["testGroups"] as? [[String: Any]]) {
      guard let publicKey = group["public"] as? [String: Any], publicKey["kty"] as? String == "RSA",
        (publicKey["alg"] as? String).map({ $0 == "RS256" }) ?? true
      else { continue }
      let keyJSON = String(
        decoding: try JSONSerialization.data(withJSONObject: ["keys": [publicKey]]), as: UTF8.self
      )
      let keys = try? JWKSet(json: keyJSON)
      for test in try #require(group["tests"] as? [[String: Any]]) {
        let id = try #require(test["tcId"] as? Int)
        let result = try #require(test["result"] as? String)
        var payload: [UInt8]? = nil
        if let compact = test["jws"] as? String, let keys {
          payload = JWSVerifier.verifiedPayload(compact, keys: keys)
        }
        counts.ran += 1
        switch result {
        case "valid":
          counts.valid += 1
          #expect(payload != nil, "tcId \(id) (\(test["comment"] ?? "")) must be accepted")
        case "invalid":
          counts.invalid += 1
          #expect(payload == nil, "tcId \(id) (\(test["comment"] ?? "")) must be rejected")
        default: break
        }
      }
    }
    print(
      "Wycheproof json_web_signature RS256: \(counts.ran) cases ran (\(counts.valid) valid, \(counts.invalid) invalid)")
    #expect(counts.ran >= 230)
    #expect(counts.valid >= 8)
  }

  @Test("RSA groups of other algorithms: every token refused")
  func otherRSAAlgorithmsAreRefused() throws {
    guard let file = try WycheproofVectors.load("json_web_signature_test.json") else { return }
    var ran = 0
    for group in try #require(file["testGroups"] as? [[String: Any]]) {
      guard let publicKey = group["public"] as? [String: Any], publicKey["kty"] as? String == "RSA",
        let alg = publicKey["alg"] as? String, alg != "RS256",
        let kid = publicKey["kid"] as? String, let n = publicKey["n"] as? String, let e = publicKey["e"] as? String
      else { continue }
      let rsaKey = try RSAPublicKey(
        modulus: try #require(Base64URL.decode(Substring(n))), exponent: try #require(Base64URL.decode(Substring(e)))
      )
      let keys = JWKSet(keys: [VerificationKey(kid: kid, publicKey: rsaKey, algorithm: alg)])
      for test in try #require(group["tests"] as? [[String: Any]]) {
        guard let compact = test["jws"] as? String else { continue }
        #expect(JWSVerifier.verifiedPayload(compact, keys: keys) == nil, "tcId \(test["tcId"] ?? "") (\(alg))")
        ran += 1
      }
    }
    print("Wycheproof json_web_signature other RSA algorithms: \(ran) tokens refused")
    #expect(ran > 0)
  }
}
