internal import COpenSSL

/// Owns one `EVP_PKEY`. The key is never mutated after construction, and OpenSSL 3 allows concurrent use of
/// an immutable key, so one instance is shared by every thread.
final class EVPKey: @unchecked Sendable {
  let pointer: OpaquePointer

  /// Takes ownership of `pointer`.
  init(taking pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    EVP_PKEY_free(pointer)
  }

  var isRSA: Bool { EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA }

  var bitCount: Int { Int(EVP_PKEY_get_bits(pointer)) }

  /// A big-endian, minimal encoding of one of the key's integer parameters ("n", "e").
  func bigEndianParameter(_ name: String) throws(CryptoError) -> [UInt8] {
    var number: OpaquePointer? = nil
    try OpenSSLErrorQueue.check(EVP_PKEY_get_bn_param(pointer, name, &number), "EVP_PKEY_get_bn_param(\(name))")
    guard let number else { throw OpenSSLErrorQueue.error("EVP_PKEY_get_bn_param(\(name))") }
    defer { BN_free(number) }
    var bytes = [UInt8](repeating: 0, count: (Int(BN_num_bits(number)) + 7) / 8)
    guard BN_bn2bin(number, &bytes) == bytes.count else { throw OpenSSLErrorQueue.error("BN_bn2bin") }
    return bytes
  }
}
