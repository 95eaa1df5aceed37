internal import COpenSSL

/// An RSA private key that signs access tokens (RS256). Immutable after `init`, so one instance is shared by
/// every thread; OpenSSL 3 makes concurrent signing with one key safe (blinding is per operation).
public final class RSAPrivateKey: @unchecked Sendable {
  private let key: EVPKey

  /// The matching public key, derived once.
  public let publicKey: RSAPublicKey
  public var bitCount: Int { key.bitCount }

  /// A fresh key with public exponent 65537.
  public static func generate(bits: Int = 2048) throws -> RSAPrivateKey {
    try RSAKeyPolicy.checkBitCount(bits)
    guard let context = EVP_PKEY_CTX_new_from_name(nil, StaticCString.rsa, nil) else {
      throw OpenSSLErrorQueue.error("EVP_PKEY_CTX_new_from_name")
    }
    defer { EVP_PKEY_CTX_free(context) }
    try OpenSSLErrorQueue.check(EVP_PKEY_keygen_init(context), "EVP_PKEY_keygen_init")
    try OpenSSLErrorQueue.check(
      EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)),
      "EVP_PKEY_CTX_set_rsa_keygen_bits"
    )
    var generated: OpaquePointer? = nil
    try OpenSSLErrorQueue.check(EVP_PKEY_generate(context, &generated), "EVP_PKEY_generate")
    guard let generated else { throw OpenSSLErrorQueue.error("EVP_PKEY_generate") }
    return try RSAPrivateKey(EVPKey(taking: generated))
  }

  /// A key from PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" PEM. Encrypted PEM and keys under 2048 bits
  /// are refused.
  public convenience init(pem: String) throws {
    try self.init(PEMCodec.readPrivateKey(pem))
  }

  private init(_ key: EVPKey) throws {
    guard key.isRSA else { throw CryptoError.invalidKey("not an RSA private key") }
    try RSAKeyPolicy.checkBitCount(key.bitCount)
    self.key = key
    self.publicKey = try RSAPublicKey(modulus: key.bigEndianParameter("n"), exponent: key.bigEndianParameter("e"))
  }

  /// Unencrypted PKCS#8 "PRIVATE KEY" PEM, written through OpenSSL's secure heap.
  public func pkcs8PEM() throws -> String {
    try PEMCodec.write(method: BIO_s_secmem(), "PEM_write_bio_PrivateKey") {
      PEM_write_bio_PrivateKey($0, key.pointer, nil, nil, 0, nil, nil)
    }
  }

  /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
  public func signSHA256(_ message: [UInt8]) throws -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error("EVP_MD_CTX_new") }
    defer { EVP_MD_CTX_free(context) }
    try OpenSSLErrorQueue.check(
      EVP_DigestSignInit(context, nil, FetchedAlgorithms.shared.sha256, nil, key.pointer),
      "EVP_DigestSignInit"
    )
    var signature = [UInt8](repeating: 0, count: Int(EVP_PKEY_get_size(key.pointer)))
    var length = signature.count
    let returnCode = message.withUnsafeBufferPointer { message in
      EVP_DigestSign(context, &signature, &length, message.baseAddress ?? SHA256.emptyInput, message.count)
    }
    try OpenSSLErrorQueue.check(returnCode, "EVP_DigestSign")
    return Array(signature.prefix(length))
  }
}
