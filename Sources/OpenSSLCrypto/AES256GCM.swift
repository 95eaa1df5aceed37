internal import COpenSSL

/// AES-256-GCM for data at rest. A sealed box is `nonce (12) || ciphertext || tag (16)`, with a fresh random
/// nonce per seal, so the box carries everything `open` needs besides the key and associated data.
public enum AES256GCM {
  static let keyByteCount = 32
  static let nonceByteCount = 12
  static let tagByteCount = 16

  public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
    try checkKey(key)
    let nonce = SecureRandom.bytes(nonceByteCount)
    let context = try CipherContext()
    try OpenSSLErrorQueue.check(
      EVP_EncryptInit_ex2(context.pointer, FetchedAlgorithms.shared.aes256GCM, key, nonce, nil),
      "EVP_EncryptInit_ex2"
    )
    var length: Int32 = 0
    if !associatedData.isEmpty {
      try OpenSSLErrorQueue.check(
        EVP_EncryptUpdate(context.pointer, nil, &length, associatedData, Int32(associatedData.count)),
        "EVP_EncryptUpdate(aad)"
      )
    }
    var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
    var written = 0
    if !plaintext.isEmpty {
      try OpenSSLErrorQueue.check(
        EVP_EncryptUpdate(context.pointer, &ciphertext, &length, plaintext, Int32(plaintext.count)),
        "EVP_EncryptUpdate"
      )
      written = Int(length)
    }
    let finalReturnCode = ciphertext.withUnsafeMutableBufferPointer {
      EVP_EncryptFinal_ex(context.pointer, $0.baseAddress! + written, &length)
    }
    try OpenSSLErrorQueue.check(finalReturnCode, "EVP_EncryptFinal_ex")
    written += Int(length)
    var tag = [UInt8](repeating: 0, count: tagByteCount)
    try OpenSSLErrorQueue.check(
      EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_AEAD_GET_TAG, Int32(tagByteCount), &tag),
      "EVP_CIPHER_CTX_ctrl(get tag)"
    )
    return nonce + ciphertext.prefix(written) + tag
  }

  /// Throws `CryptoError.invalidInput` if the box is malformed or was altered, or the key or associated data
  /// differ from the ones it was sealed with.
  public static func open(_ sealedBox: [UInt8], key: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
    try checkKey(key)
    guard sealedBox.count >= nonceByteCount + tagByteCount else {
      throw CryptoError.invalidInput("sealed box is shorter than nonce and tag")
    }
    let nonce = Array(sealedBox.prefix(nonceByteCount))
    let ciphertext = Array(sealedBox[nonceByteCount..<(sealedBox.count - tagByteCount)])
    var tag = Array(sealedBox.suffix(tagByteCount))
    let context = try CipherContext()
    try OpenSSLErrorQueue.check(
      EVP_DecryptInit_ex2(context.pointer, FetchedAlgorithms.shared.aes256GCM, key, nonce, nil),
      "EVP_DecryptInit_ex2"
    )
    var length: Int32 = 0
    if !associatedData.isEmpty {
      try OpenSSLErrorQueue.check(
        EVP_DecryptUpdate(context.pointer, nil, &length, associatedData, Int32(associatedData.count)),
        "EVP_DecryptUpdate(aad)"
      )
    }
    var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
    var written = 0
    if !ciphertext.isEmpty {
      try OpenSSLErrorQueue.check(
        EVP_DecryptUpdate(context.pointer, &plaintext, &length, ciphertext, Int32(ciphertext.count)),
        "EVP_DecryptUpdate"
      )
      written = Int(length)
    }
    try OpenSSLErrorQueue.check(
      EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_AEAD_SET_TAG, Int32(tagByteCount), &tag),
      "EVP_CIPHER_CTX_ctrl(set tag)"
    )
    let finalReturnCode = plaintext.withUnsafeMutableBufferPointer {
      EVP_DecryptFinal_ex(context.pointer, $0.baseAddress! + written, &length)
    }
    guard finalReturnCode == 1 else {
      OpenSSLErrorQueue.discard()
      throw CryptoError.invalidInput("sealed box failed authentication")
    }
    written += Int(length)
    return Array(plaintext.prefix(written))
  }

  private static func checkKey(_ key: [UInt8]) throws(CryptoError) {
    guard key.count == keyByteCount else {
      throw CryptoError.invalidKey("AES-256-GCM key must be \(keyByteCount) bytes, got \(key.count)")
    }
  }
}

/// Owns one `EVP_CIPHER_CTX`; `EVP_CIPHER_CTX_free` also wipes the expanded key.
private final class CipherContext {
  let pointer: OpaquePointer

  init() throws(CryptoError) {
    guard let pointer = EVP_CIPHER_CTX_new() else { throw OpenSSLErrorQueue.error("EVP_CIPHER_CTX_new") }
    self.pointer = pointer
  }

  deinit {
    EVP_CIPHER_CTX_free(pointer)
  }
}
