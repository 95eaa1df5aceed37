import OpenSSLCrypto
import SessionToken

/// Builds tokens the way an attacker could: any header, any payload, signed or not.
enum TokenForge {
  static let key: RSAPrivateKey = try! RSAPrivateKey.generate()
  static let otherKey: RSAPrivateKey = try! RSAPrivateKey.generate()
  static let kid = "d-1700000000000"
  static let keys = JWKSet(keys: [VerificationKey(kid: kid, publicKey: key.publicKey)])

  static func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }

  static func header(kid: String = kid) -> String {
    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"\(kid)\",\"version\":\"5\"}"
  }

  static func payload(exp: Int64 = 2_000_000_000, extra: String = "") -> String {
    "{\"sub\":\"user-1\",\"exp\":\(exp),\"iat\":1700000000,\"sessionHandle\":\"h-1\",\"refreshTokenHash1\":\"r1\","
      + "\"parentRefreshTokenHash1\":null,\"antiCsrfToken\":null\(extra)}"
  }

  /// `header.payload.signature` with an RS256 signature by `signer` over exactly these segments.
  static func signed(header: String, payload: String, signer: RSAPrivateKey = key) -> String {
    let input = b64(header) + "." + b64(payload)
    return input + "." + Base64URL.encode(try! signer.signSHA256(Array(input.utf8)))
  }
}
