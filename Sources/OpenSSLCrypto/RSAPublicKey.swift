internal import COpenSSL

/// An RSA public key that checks RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures. Parsed once and immutable,
/// so one instance is shared by every event-loop thread; checking a signature is the product's hot path.
public final class RSAPublicKey: @unchecked Sendable {
  private let key: EVPKey
  private let verifyTemplate: RS256VerifyTemplate
  private let modulusByteCount: Int

  /// Big-endian modulus without leading zero bytes (what a JWK's `n` holds).
  public let modulus: [UInt8]
  /// Big-endian public exponent without leading zero bytes (what a JWK's `e` holds).
  public let exponent: [UInt8]
  public var bitCount: Int { key.bitCount }

  /// A key from SPKI "PUBLIC KEY" PEM, or PKCS#1 "RSA PUBLIC KEY" PEM.
  public convenience init(pem: String) throws {
    let parsed = try PEMCodec.readPublicKey(pem)
    guard parsed.isRSA else { throw CryptoError.invalidKey("not an RSA public key") }
    try self.init(modulus: parsed.bigEndianParameter("n"), exponent: parsed.bigEndianParameter("e"))
  }

  /// A key from big-endian modulus and exponent, as in a JWK's `n` and `e`. Every public key is built here, so
  /// every key passes the same checks (size, odd modulus, odd exponent ≥ 3) whatever form it arrived in.
  public init(modulus: [UInt8], exponent: [UInt8]) throws {
    let modulus = RSAKeyPolicy.withoutLeadingZeros(modulus)
    let exponent = RSAKeyPolicy.withoutLeadingZeros(exponent)
    try RSAKeyPolicy.checkPublicNumbers(modulus: modulus, exponent: exponent)
    self.key = try Self.makeKey(modulus: modulus, exponent: exponent)
    self.verifyTemplate = try RS256VerifyTemplate(key: key)
    self.modulus = modulus
    self.exponent = exponent
    self.modulusByteCount = modulus.count
  }

  /// SPKI "PUBLIC KEY" PEM.
  public func spkiPEM() throws -> String {
    try PEMCodec.write(method: BIO_s_mem(), "PEM_write_bio_PUBKEY") { PEM_write_bio_PUBKEY($0, key.pointer) }
  }

  /// RSASSA-PKCS1-v1_5 / SHA-256. Never throws: any failure is `false`.
  public func isValidSHA256Signature(_ signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool {
    // A signature is exactly as long as the modulus; anything else is refused before any arithmetic.
    guard signature.count == modulusByteCount, let signatureBytes = signature.baseAddress else { return false }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: SHA256.byteCount) { digest in
      SHA256.hash(message, into: digest)
      return verifyTemplate.verify(
        signature: signatureBytes.assumingMemoryBound(to: UInt8.self),
        signatureCount: signature.count,
        digest: UnsafePointer(digest.baseAddress!)
      )
    }
  }

  public func isValidSHA256Signature(_ signature: [UInt8], message: [UInt8]) -> Bool {
    signature.withUnsafeBytes { signature in
      message.withUnsafeBytes { message in isValidSHA256Signature(signature, message: message) }
    }
  }

  /// `EVP_PKEY_PUBLIC_KEY`, a compound macro Swift cannot import.
  private static let publicKeySelection = Int32(
    OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS | OSSL_KEYMGMT_SELECT_PUBLIC_KEY
  )

  private static func makeKey(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) -> EVPKey {
    guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { throw OpenSSLErrorQueue.error("BN_bin2bn") }
    defer { BN_free(n) }
    guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else {
      throw OpenSSLErrorQueue.error("BN_bin2bn")
    }
    defer { BN_free(e) }
    guard let builder = OSSL_PARAM_BLD_new() else { throw OpenSSLErrorQueue.error("OSSL_PARAM_BLD_new") }
    defer { OSSL_PARAM_BLD_free(builder) }
    try OpenSSLErrorQueue.check(OSSL_PARAM_BLD_push_BN(builder, StaticCString.modulus, n), "OSSL_PARAM_BLD_push_BN")
    try OpenSSLErrorQueue.check(OSSL_PARAM_BLD_push_BN(builder, StaticCString.exponent, e), "OSSL_PARAM_BLD_push_BN")
    guard let parameters = OSSL_PARAM_BLD_to_param(builder) else {
      throw OpenSSLErrorQueue.error("OSSL_PARAM_BLD_to_param")
    }
    defer { OSSL_PARAM_free(parameters) }
    guard let context = EVP_PKEY_CTX_new_from_name(nil, StaticCString.rsa, nil) else {
      throw OpenSSLErrorQueue.error("EVP_PKEY_CTX_new_from_name")
    }
    defer { EVP_PKEY_CTX_free(context) }
    try OpenSSLErrorQueue.check(EVP_PKEY_fromdata_init(context), "EVP_PKEY_fromdata_init")
    var key: OpaquePointer? = nil
    try OpenSSLErrorQueue.check(
      EVP_PKEY_fromdata(context, &key, Self.publicKeySelection, parameters),
      "EVP_PKEY_fromdata"
    )
    guard let key else { throw OpenSSLErrorQueue.error("EVP_PKEY_fromdata") }
    return EVPKey(taking: key)
  }
}
