import OpenSSLCrypto
import SessionToken

/// An opaque refresh token: `<session handle>.<256 random bits>.<tag>`, all base64url but the handle.
///
/// The handle finds the session's row without storing the token; the tag (HMAC-SHA256 under the session's
/// own family key, truncated to 128 bits) proves the token was issued for that session, so reuse of a genuine
/// old token (theft) is told apart from garbage naming a known handle, which must not revoke anything.
/// The store keeps only `H2 = sha256(H1)` where `H1 = sha256(token)`; access tokens carry H1.
public struct RefreshToken: Sendable, Equatable {
  public static let maxLength = 256
  public let text: String
  public let sessionHandle: String
  private let signedPart: Substring
  private let tag: [UInt8]

  /// Issues a fresh token for `sessionHandle`.
  public static func issue(sessionHandle: String, familyKey: [UInt8]) -> RefreshToken {
    let signed = sessionHandle + "." + Base64URL.encode(SecureRandom.bytes(32))
    let tag = Array(HMACSHA256.authenticationCode(key: familyKey, message: Array(signed.utf8)).prefix(16))
    let text = signed + "." + Base64URL.encode(tag)
    return RefreshToken(text: text, sessionHandle: sessionHandle, signedPart: Substring(signed), tag: tag)
  }

  private init(text: String, sessionHandle: String, signedPart: Substring, tag: [UInt8]) {
    self.text = text
    self.sessionHandle = sessionHandle
    self.signedPart = signedPart
    self.tag = tag
  }

  /// Parses a presented token; nil when it does not have the shape of one.
  public init?(parsing text: String) {
    guard text.utf8.count <= Self.maxLength else { return nil }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].utf8.count == 36, parts[0].utf8.allSatisfy({ Self.isHandleByte($0) }),
      let secret = Base64URL.decode(parts[1]), secret.count == 32,
      let tag = Base64URL.decode(parts[2]), tag.count == 16
    else { return nil }
    self.text = text
    self.sessionHandle = String(parts[0])
    self.signedPart = text[parts[0].startIndex..<parts[1].endIndex]
    self.tag = tag
  }

  /// True when this token was issued under `familyKey` (that is, for this session by a sidecar).
  public func isAuthentic(familyKey: [UInt8]) -> Bool {
    let expected = HMACSHA256.authenticationCode(key: familyKey, message: Array(signedPart.utf8)).prefix(16)
    return constantTimeEquals(Array(expected), tag)
  }

  /// Hex of sha256(token): what access tokens carry as `refreshTokenHash1`.
  public var hash1: String { Hex.encode(SHA256.hash(text)) }
  /// Hex of sha256(hash1): the only form the store keeps.
  public var hash2: String { Self.hash2(ofHash1: hash1) }

  public static func hash2(ofHash1 hash1: String) -> String { Hex.encode(SHA256.hash(hash1)) }

  private static func isHandleByte(_ b: UInt8) -> Bool {
    (b >= 48 && b <= 57) || (b >= 97 && b <= 102) || b == 45
  }
}
