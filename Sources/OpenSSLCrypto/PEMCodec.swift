internal import COpenSSL

/// Reading and writing PEM through OpenSSL memory BIOs.
enum PEMCodec {
  /// Calls `body` with a read-only memory BIO over `text`.
  static func withReadBIO<T>(
    _ text: String,
    _ body: (OpaquePointer) throws(CryptoError) -> T
  ) throws(CryptoError) -> T {
    var bytes = Array(text.utf8)
    guard bytes.count < Int(Int32.max) else { throw CryptoError.invalidKey("PEM text too large") }
    let result: Result<T, CryptoError> = bytes.withUnsafeMutableBytes { buffer in
      guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
        return .failure(OpenSSLErrorQueue.error("BIO_new_mem_buf"))
      }
      defer { BIO_free(bio) }
      do throws(CryptoError) { return .success(try body(bio)) } catch { return .failure(error) }
    }
    return try result.get()
  }

  /// Writes with `body` into a fresh BIO of `method` and returns what was written as text.
  static func write(
    method: OpaquePointer,
    _ operation: String,
    _ body: (OpaquePointer) -> Int32
  ) throws(CryptoError) -> String {
    guard let bio = BIO_new(method) else { throw OpenSSLErrorQueue.error("BIO_new") }
    defer { BIO_free(bio) }
    try OpenSSLErrorQueue.check(body(bio), operation)
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = sidecar_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { throw OpenSSLErrorQueue.error("BIO_get_mem_data") }
    return UnsafeRawBufferPointer(start: data, count: length).withMemoryRebound(to: UInt8.self) {
      String(decoding: $0, as: UTF8.self)
    }
  }

  // Every read passes a passphrase callback that refuses (`{ _, _, _, _ in 0 }`): an encrypted PEM is an
  // error, never an interactive prompt on the terminal.

  /// A private key from PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" PEM (encrypted PEM is refused).
  static func readPrivateKey(_ pem: String) throws(CryptoError) -> EVPKey {
    try withReadBIO(pem) { bio throws(CryptoError) in
      guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
        throw OpenSSLErrorQueue.error("PEM_read_bio_PrivateKey")
      }
      return EVPKey(taking: key)
    }
  }

  /// A public key from SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY" PEM.
  static func readPublicKey(_ pem: String) throws(CryptoError) -> EVPKey {
    try withReadBIO(pem) { bio throws(CryptoError) in
      if pem.contains("-----BEGIN RSA PUBLIC KEY-----") {
        return try readPKCS1PublicKey(bio)
      }
      guard let key = PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in 0 }, nil) else {
        throw OpenSSLErrorQueue.error("PEM_read_bio_PUBKEY")
      }
      return EVPKey(taking: key)
    }
  }

  private static func readPKCS1PublicKey(_ bio: OpaquePointer) throws(CryptoError) -> EVPKey {
    var der: UnsafeMutablePointer<UInt8>? = nil
    var name: UnsafeMutablePointer<CChar>? = nil
    var length = 0
    try OpenSSLErrorQueue.check(
      PEM_bytes_read_bio(&der, &length, &name, "RSA PUBLIC KEY", bio, { _, _, _, _ in 0 }, nil),
      "PEM_bytes_read_bio"
    )
    defer {
      CRYPTO_free(der, nil, 0)
      CRYPTO_free(name, nil, 0)
    }
    var cursor = UnsafePointer(der)
    guard let key = d2i_PublicKey(EVP_PKEY_RSA, nil, &cursor, length) else {
      throw OpenSSLErrorQueue.error("d2i_PublicKey")
    }
    return EVPKey(taking: key)
  }
}
