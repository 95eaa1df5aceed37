internal import COpenSSL

/// Compares secrets (token hashes, anti-CSRF tokens) in time independent of where they differ. Lengths are
/// not secret: different lengths compare unequal at once.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  guard a.count == b.count else { return false }
  guard !a.isEmpty else { return true }
  return a.withUnsafeBytes { a in
    b.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
  }
}
