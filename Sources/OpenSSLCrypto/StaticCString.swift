/// C strings with static lifetime. Some OpenSSL calls keep the pointer they are given instead of copying it
/// (`OSSL_PARAM_BLD_push_BN` until `OSSL_PARAM_BLD_to_param`, `EVP_PKEY_CTX_new_from_name` for the context's
/// life); a Swift `String` argument is only valid during the call, so those calls get static text.
enum StaticCString {
  static func pointer(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
  }

  static var rsa: UnsafePointer<CChar> { pointer("RSA") }
  static var modulus: UnsafePointer<CChar> { pointer("n") }
  static var exponent: UnsafePointer<CChar> { pointer("e") }
}
