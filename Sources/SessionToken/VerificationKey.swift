public import OpenSSLCrypto

/// A public key a token may name in its `kid` header, bound to the one algorithm it may be used with: a token
/// whose header algorithm differs from the key's is refused (RFC 8725 §3.1), never verified another way.
public struct VerificationKey: Sendable {
  public let kid: String
  /// The JWS `alg` this key verifies; only "RS256" is supported.
  public let algorithm: String
  public let publicKey: RSAPublicKey

  public init(kid: String, publicKey: RSAPublicKey, algorithm: String = "RS256") {
    self.kid = kid
    self.algorithm = algorithm
    self.publicKey = publicKey
  }
}

/// Where a verifier finds the key a token names. Implementations return exactly the key with that kid or nil;
/// they never fall back to a default key, so a token cannot make the verifier try every key.
public protocol VerificationKeyLookup: Sendable {
  func verificationKey(kid: Substring) -> VerificationKey?
}
