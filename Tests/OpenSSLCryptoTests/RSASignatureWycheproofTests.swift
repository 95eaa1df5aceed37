import Foundation
import OpenSSLCrypto
import TestSupport
import Testing

@Suite("Wycheproof RSASSA-PKCS1-v1_5 / SHA-256, 2048-bit")
struct RSASignatureWycheproofTests {
  @Test("every valid signature accepted, every invalid one rejected")
  func rsaSignature2048SHA256() throws {
    guard let file = try WycheproofVectors.load("rsa_signature_2048_sha256_test.json") else { return }
    let groups = try #require(file["testGroups"] as? [[String: Any]])
    var ran = 0
    var valid = 0
    var invalid = 0
    for group in groups {
      let pem = try #require(group["publicKeyPem"] as? String)
      let key = try RSAPublicKey(pem: pem)
      // The same key through the JWK route (n/e) must behave identically.
      let jwk = try #require(group["publicKey"] as? [String: Any])
      let fromNumbers = try RSAPublicKey(
        modulus: WycheproofVectors.bytes(hex: try #require(jwk["modulus"] as? String)),
        exponent: WycheproofVectors.bytes(hex: try #require(jwk["publicExponent"] as? String))
      )
      #expect(fromNumbers.modulus == key.modulus)
      for test in try #require(group["tests"] as? [[String: Any]]) {
        let id = try #require(test["tcId"] as? Int)
        let message = WycheproofVectors.bytes(hex: try #require(test["msg"] as? String))
        let signature = WycheproofVectors.bytes(hex: try #require(test["sig"] as? String))
        let accepted = key.isValidSHA256Signature(signature, message: message)
        #expect(fromNumbers.isValidSHA256Signature(signature, message: message) == accepted, "tcId \(id)")
        switch test["result"] as? String {
        case "valid":
          valid += 1
          #expect(accepted, "tcId \(id) must be accepted")
        case "invalid":
          invalid += 1
          #expect(!accepted, "tcId \(id) must be rejected")
        default: break  // "acceptable": either answer is allowed
        }
        ran += 1
      }
    }
    print("Wycheproof rsa_signature_2048_sha256: \(ran) cases ran (\(valid) valid, \(invalid) invalid)")
    #expect(ran == (file["numberOfTests"] as? Int))
  }
}
