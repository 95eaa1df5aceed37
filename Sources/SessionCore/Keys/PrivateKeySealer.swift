import OpenSSLCrypto
import SessionStorage

/// Seals private keys at rest with AES-256-GCM when a key-encryption key is configured; the kid is the
/// associated data, so a sealed key moved to another row does not open.
public struct PrivateKeySealer: Sendable {
  private let keyEncryptionKey: [UInt8]?

  /// Keys stored in clear.
  public init() { keyEncryptionKey = nil }

  public init(keyEncryptionKey: [UInt8]?) throws(SigningKeyError) {
    if let kek = keyEncryptionKey, kek.count != 32 {
      throw .keyEncryptionKeyLength(kek.count)
    }
    self.keyEncryptionKey = keyEncryptionKey
  }

  public var sealsKeys: Bool { keyEncryptionKey != nil }

  /// The key refresh tokens are derived with (RefreshToken.derive): HMAC of the key-encryption key, so it is
  /// never stored; nil without a key-encryption key.
  public var refreshTokenDerivationKey: [UInt8]? {
    keyEncryptionKey.map { HMACSHA256.authenticationCode(key: $0, message: Array("refresh-token-derivation".utf8)) }
  }

  public func seal(privateKeyPEM: String, kid: String) throws -> (bytes: [UInt8], sealed: Bool) {
    guard let kek = keyEncryptionKey else { return (Array(privateKeyPEM.utf8), false) }
    return (try AES256GCM.seal(Array(privateKeyPEM.utf8), key: kek, associatedData: Array(kid.utf8)), true)
  }

  public func open(_ record: SigningKeyRecord) throws(SigningKeyError) -> String {
    guard record.sealed else { return String(decoding: record.privateKey, as: UTF8.self) }
    guard let kek = keyEncryptionKey else { throw .sealedWithoutKeyEncryptionKey(kid: record.kid) }
    do {
      let plain = try AES256GCM.open(record.privateKey, key: kek, associatedData: Array(record.kid.utf8))
      return String(decoding: plain, as: UTF8.self)
    } catch {
      throw .doesNotOpen(kid: record.kid)
    }
  }
}
