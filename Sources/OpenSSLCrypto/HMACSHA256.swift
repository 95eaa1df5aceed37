internal import COpenSSL

/// HMAC-SHA-256, used for keyed hashes that must not be recomputable without the key.
public enum HMACSHA256 {
  /// The 32-byte code. HMAC fails only if OpenSSL cannot allocate, so that traps rather than returning junk.
  public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var code = [UInt8](repeating: 0, count: SHA256.byteCount)
    var length: UInt32 = 0
    let result = key.withUnsafeBufferPointer { key in
      message.withUnsafeBufferPointer { message in
        HMAC(
          FetchedAlgorithms.shared.sha256,
          key.baseAddress ?? SHA256.emptyInput, Int32(key.count),
          message.baseAddress ?? SHA256.emptyInput, message.count,
          &code, &length
        )
      }
    }
    guard result != nil, length == SHA256.byteCount else {
      fatalError("OpenSSL HMAC-SHA-256 failed: \(OpenSSLErrorQueue.drain())")
    }
    return code
  }
}
