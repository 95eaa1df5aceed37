/// The claims SuperTokens' v5 access token carries for the session itself; the app's own claims travel next
/// to them in the payload JSON.
public struct AccessTokenClaims: Sendable, Equatable {
  /// The user id (`sub`).
  public var subject: String
  /// `exp`, in seconds since the epoch.
  public var expiresAt: Int64
  /// `iat`, in seconds since the epoch.
  public var issuedAt: Int64
  public var sessionHandle: String
  /// SHA-256 (hex) of the current refresh token; the store keeps only a hash of this.
  public var refreshTokenHash1: String
  public var parentRefreshTokenHash1: String?
  public var antiCsrfToken: String?

  public init(
    subject: String,
    expiresAt: Int64,
    issuedAt: Int64,
    sessionHandle: String,
    refreshTokenHash1: String,
    parentRefreshTokenHash1: String? = nil,
    antiCsrfToken: String? = nil
  ) {
    self.subject = subject
    self.expiresAt = expiresAt
    self.issuedAt = issuedAt
    self.sessionHandle = sessionHandle
    self.refreshTokenHash1 = refreshTokenHash1
    self.parentRefreshTokenHash1 = parentRefreshTokenHash1
    self.antiCsrfToken = antiCsrfToken
  }

  /// Reads the claims from the members of a scanned payload; nil if one is missing or of the wrong type.
  init?(members: [JSONMember], in bytes: UnsafeRawBufferPointer) {
    var subject: String? = nil
    var expiresAt: Int64? = nil
    var issuedAt: Int64? = nil
    var sessionHandle: String? = nil
    var refreshTokenHash1: String? = nil
    var parentRefreshTokenHash1: String? = nil
    var antiCsrfToken: String? = nil
    for member in members {
      switch member.name {
      case "sub": subject = StrictJSON.string(member.value, in: bytes)
      case "exp": expiresAt = StrictJSON.int64(member.value, in: bytes)
      case "iat": issuedAt = StrictJSON.int64(member.value, in: bytes)
      case "sessionHandle": sessionHandle = StrictJSON.string(member.value, in: bytes)
      case "refreshTokenHash1": refreshTokenHash1 = StrictJSON.string(member.value, in: bytes)
      case "parentRefreshTokenHash1":
        guard let value = Self.nullableString(member.value, in: bytes) else { return nil }
        parentRefreshTokenHash1 = value
      case "antiCsrfToken":
        guard let value = Self.nullableString(member.value, in: bytes) else { return nil }
        antiCsrfToken = value
      default: break
      }
    }
    guard let subject, let expiresAt, let issuedAt, let sessionHandle, let refreshTokenHash1 else { return nil }
    self.init(
      subject: subject, expiresAt: expiresAt, issuedAt: issuedAt, sessionHandle: sessionHandle,
      refreshTokenHash1: refreshTokenHash1, parentRefreshTokenHash1: parentRefreshTokenHash1,
      antiCsrfToken: antiCsrfToken
    )
  }

  /// `.some(nil)` for JSON null, `.some(text)` for a string, nil for any other type.
  private static func nullableString(_ value: JSONValue, in bytes: UnsafeRawBufferPointer) -> String?? {
    if value.kind == .null { return .some(nil) }
    guard let text = StrictJSON.string(value, in: bytes) else { return nil }
    return .some(text)
  }
}
