import OpenSSLCrypto
import SessionToken

/// An opaque refresh token: `<session handle>.<256-bit secret>.<tag>`, all base64url but the handle.
///
/// The secret of generation N of a session is HMAC-SHA256(derivation key, family key ‖ handle ‖ N): the
/// current token can be issued again from what is stored (a refresh retried after its answer was lost gets the
/// same token), while only its hashes are stored. The derivation key comes from the key-encryption key, which
/// is never in the database, so a reader of the database cannot derive anyone's token.
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

  /// Issues a random (not derivable) token for `sessionHandle`: what generation 0 of a session holds.
  public static func issue(sessionHandle: String, familyKey: [UInt8]) -> RefreshToken {
    make(sessionHandle: sessionHandle, secret: SecureRandom.bytes(32), familyKey: familyKey)
  }

  /// The token of `generation` (≥ 1) of a session: the same inputs always give the same token.
  public static func derive(
    sessionHandle: String, familyKey: [UInt8], generation: Int64, derivationKey: [UInt8]?
  ) -> RefreshToken {
    var message = Array("session-sidecar refresh token v1".utf8) + familyKey + Array(sessionHandle.utf8)
    withUnsafeBytes(of: generation.bigEndian) { message += $0 }
    // Without a key-encryption key the family key alone derives (and the database then holds everything).
    let secret = HMACSHA256.authenticationCode(key: derivationKey ?? familyKey, message: message)
    return make(sessionHandle: sessionHandle, secret: Array(secret.prefix(32)), familyKey: familyKey)
  }

  private static func make(sessionHandle: String, secret: [UInt8], familyKey: [UInt8]) -> RefreshToken {
    let signed = sessionHandle + "." + Base64URL.encode(secret)
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
