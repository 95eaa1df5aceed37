internal import COpenSSL

/// SHA-256 through the implementation fetched once per process (see `FetchedAlgorithms`).
public enum SHA256 {
  static let byteCount = 32
  /// A valid address for empty input: OpenSSL wants a pointer even when the length is zero. Never written.
  nonisolated(unsafe) static let emptyInput = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))

  public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
      hash(bytes, into: buffer)
      count = byteCount
    }
  }

  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    bytes.withUnsafeBytes { hash($0) }
  }

  public static func hash(_ string: String) -> [UInt8] {
    var string = string
    return string.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
  }

  /// Writes the digest into `output` (at least 32 bytes). Hashing fails only if OpenSSL cannot allocate, which
  /// this process cannot recover from, so it traps rather than returning a wrong digest.
  static func hash(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) {
    precondition(output.count >= byteCount)
    var length: UInt32 = 0
    let input = bytes.baseAddress ?? UnsafeRawPointer(emptyInput)
    guard EVP_Digest(input, bytes.count, output.baseAddress, &length, FetchedAlgorithms.shared.sha256, nil) == 1,
      length == byteCount
    else {
      fatalError("OpenSSL SHA-256 failed: \(OpenSSLErrorQueue.drain())")
    }
  }
}
