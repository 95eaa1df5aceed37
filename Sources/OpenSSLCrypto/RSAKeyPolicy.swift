/// The RSA keys this service accepts: at least 2048 bits (RFC 7518 §3.3 requires it for RS256), at most
/// OpenSSL's own ceiling of 16384 bits (larger moduli make each verify a denial-of-service lever), an odd
/// modulus and an odd public exponent of at least 3 and at most 64 bits.
enum RSAKeyPolicy {
  static let minimumBits = 2048
  static let maximumBits = 16384

  static func checkBitCount(_ bits: Int) throws(CryptoError) {
    guard bits >= minimumBits else {
      throw CryptoError.invalidKey("RSA modulus has \(bits) bits; at least \(minimumBits) are required")
    }
    guard bits <= maximumBits else {
      throw CryptoError.invalidKey("RSA modulus has \(bits) bits; at most \(maximumBits) are accepted")
    }
  }

  /// Checks big-endian `modulus` and `exponent` (leading zeros already removed).
  static func checkPublicNumbers(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) {
    guard let first = modulus.first, let last = modulus.last else {
      throw CryptoError.invalidKey("RSA modulus is empty")
    }
    try checkBitCount((modulus.count - 1) * 8 + (8 - first.leadingZeroBitCount))
    guard last & 1 == 1 else { throw CryptoError.invalidKey("RSA modulus is even") }
    guard let lastExponentByte = exponent.last, exponent.count <= 8 else {
      throw CryptoError.invalidKey("RSA public exponent is empty or longer than 64 bits")
    }
    guard lastExponentByte & 1 == 1 else { throw CryptoError.invalidKey("RSA public exponent is even") }
    guard exponent.count > 1 || lastExponentByte >= 3 else {
      throw CryptoError.invalidKey("RSA public exponent is smaller than 3")
    }
  }

  static func withoutLeadingZeros(_ bytes: [UInt8]) -> [UInt8] {
    Array(bytes.drop { $0 == 0 })
  }
}
