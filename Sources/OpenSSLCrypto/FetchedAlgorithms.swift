internal import COpenSSL

/// Algorithm implementations fetched from the default provider once per process. OpenSSL 3 looks an algorithm
/// up by name on every implicit use (`EVP_sha256()`); fetching once keeps that lookup off the verify hot path.
/// The fetched objects are immutable and reference counted atomically, so every thread may use them at once.
final class FetchedAlgorithms: @unchecked Sendable {
  let sha256: OpaquePointer
  let aes256GCM: OpaquePointer

  static let shared = FetchedAlgorithms()

  private init() {
    guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil) else {
      fatalError("OpenSSL provides no SHA256 implementation: \(OpenSSLErrorQueue.drain())")
    }
    guard let aes256GCM = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) else {
      fatalError("OpenSSL provides no AES-256-GCM implementation: \(OpenSSLErrorQueue.drain())")
    }
    self.sha256 = sha256
    self.aes256GCM = aes256GCM
  }

  deinit {
    EVP_MD_free(sha256)
    EVP_CIPHER_free(aes256GCM)
  }
}
