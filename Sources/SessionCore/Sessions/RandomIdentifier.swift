import OpenSSLCrypto
import SessionToken

/// Unguessable identifiers from OpenSSL's CSPRNG.
public enum RandomIdentifier {
  /// A version-4 UUID string, used for session handles and static key ids.
  public static func uuid() -> String {
    var bytes = SecureRandom.bytes(16)
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    let hex = Hex.encode(bytes)
    let h = Array(hex)
    return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-"
      + String(h[20..<32])
  }

  /// `byteCount` random bytes as base64url (anti-CSRF tokens, refresh-token secrets).
  public static func token(byteCount: Int) -> String {
    Base64URL.encode(SecureRandom.bytes(byteCount))
  }
}
