internal import COpenSSL

/// Bytes from OpenSSL's CSPRNG, for tokens, nonces and keys.
public enum SecureRandom {
  /// `count` random bytes. If the CSPRNG fails the process stops: handing out weak or zero "randomness" for
  /// session tokens would be worse than crashing.
  public static func bytes(_ count: Int) -> [UInt8] {
    precondition(count >= 0 && count <= Int(Int32.max), "SecureRandom.bytes: count out of range")
    guard count > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialised in
      guard RAND_bytes(buffer.baseAddress, Int32(count)) == 1 else {
        fatalError("OpenSSL RAND_bytes failed; refusing to continue without a working CSPRNG")
      }
      initialised = count
    }
  }
}
