internal import OpenSSLCrypto

/// One RSA signing key as published in a JWKS (RFC 7517), in the form SuperTokens SDKs read.
public struct JWK: Sendable, Equatable, Codable {
  public var kty: String
  public var kid: String
  /// Big-endian modulus, base64url.
  public var n: String
  /// Big-endian public exponent, base64url.
  public var e: String
  public var alg: String
  public var use: String

  public init(key: VerificationKey) {
    self.kty = "RSA"
    self.kid = key.kid
    self.n = Base64URL.encode(key.publicKey.modulus)
    self.e = Base64URL.encode(key.publicKey.exponent)
    self.alg = key.algorithm
    self.use = "sig"
  }

  /// The key this JWK describes; throws `JWKSetError.invalidKey` if it is not a usable RS256 signing key.
  public func verificationKey() throws(JWKSetError) -> VerificationKey {
    guard kty == "RSA" else { throw JWKSetError.invalidKey(kid: kid, reason: "kty must be RSA") }
    guard alg == "RS256" else { throw JWKSetError.invalidKey(kid: kid, reason: "alg must be RS256") }
    guard use == "sig" else { throw JWKSetError.invalidKey(kid: kid, reason: "use must be sig") }
    return try Self.rsaKey(kid: kid, n: n, e: e)
  }

  static func rsaKey(kid: String, n: String, e: String) throws(JWKSetError) -> VerificationKey {
    guard let modulus = Base64URL.decode(Substring(n)), let exponent = Base64URL.decode(Substring(e)) else {
      throw JWKSetError.invalidKey(kid: kid, reason: "n and e must be canonical base64url")
    }
    do {
      return VerificationKey(kid: kid, publicKey: try RSAPublicKey(modulus: modulus, exponent: exponent))
    } catch {
      throw JWKSetError.invalidKey(kid: kid, reason: "\(error)")
    }
  }

  /// This key as JSON, members in a fixed order.
  var json: String {
    "{\"kty\":" + JSONText.quoted(kty) + ",\"kid\":" + JSONText.quoted(kid) + ",\"n\":" + JSONText.quoted(n)
      + ",\"e\":" + JSONText.quoted(e) + ",\"alg\":" + JSONText.quoted(alg) + ",\"use\":" + JSONText.quoted(use) + "}"
  }
}

/// Why a JWKS was refused.
public enum JWKSetError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidJSON(String)
  case invalidKey(kid: String?, reason: String)
  case duplicateKid(String)

  public var description: String {
    switch self {
    case .invalidJSON(let problem): "JWKS is not valid: \(problem)"
    case .invalidKey(let kid, let reason): "JWKS key \(kid.map { "\"\($0)\"" } ?? "without kid") is invalid: \(reason)"
    case .duplicateKid(let kid): "JWKS has more than one key with kid \"\(kid)\""
    }
  }
}
