/// Builds the payload JSON of an access token: the session's claims first, then the app's own claims spliced
/// in as the app wrote them (not re-serialised, so numbers and escapes keep their exact form).
public enum AccessTokenPayload {
  /// Names the app may not set: the session's own claims, and the registered claims a verifier would trust.
  public static let protectedClaimNames: Set<String> = [
    "sub", "exp", "iat", "sessionHandle", "refreshTokenHash1", "parentRefreshTokenHash1", "antiCsrfToken",
    "tId", "rsub", "iss", "aud", "nbf", "jti",
  ]

  /// Validates `customJSON` (empty string means {}) as one strict JSON object and returns the payload JSON.
  public static func build(claims: AccessTokenClaims, customJSON: String) throws(PayloadError) -> String {
    var output = "{\"sub\":" + JSONText.quoted(claims.subject)
    output += ",\"exp\":\(claims.expiresAt),\"iat\":\(claims.issuedAt)"
    output += ",\"sessionHandle\":" + JSONText.quoted(claims.sessionHandle)
    output += ",\"refreshTokenHash1\":" + JSONText.quoted(claims.refreshTokenHash1)
    output += ",\"parentRefreshTokenHash1\":" + (claims.parentRefreshTokenHash1.map(JSONText.quoted) ?? "null")
    output += ",\"antiCsrfToken\":" + (claims.antiCsrfToken.map(JSONText.quoted) ?? "null")
    guard !customJSON.isEmpty else { return output + "}" }

    let custom = Array(customJSON.utf8)
    let spliced: Result<String, PayloadError> = custom.withUnsafeBytes { bytes in
      let members: [JSONMember]
      do throws(PayloadError) { members = try objectMembers(bytes) } catch { return .failure(error) }
      var text = ""
      for member in members {
        guard !protectedClaimNames.contains(member.name) else { return .failure(.protectedClaim(member.name)) }
        text += ","
        text += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.nameRange]), as: UTF8.self)
        text += ":"
        text += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.value.range]), as: UTF8.self)
      }
      return .success(text)
    }
    return output + (try spliced.get()) + "}"
  }

  /// Validates `json` (empty string means {}) as one strict JSON object, as for session data; returns it
  /// without surrounding whitespace ("{}" for empty).
  public static func validateObject(_ json: String) throws(PayloadError) -> String {
    guard !json.isEmpty else { return "{}" }
    let text = Array(json.utf8)
    let result: Result<String, PayloadError> = text.withUnsafeBytes { bytes in
      do throws(PayloadError) { _ = try objectMembers(bytes) } catch { return .failure(error) }
      let isWhitespace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
      let start = bytes.firstIndex { !isWhitespace($0) }!
      let end = bytes.lastIndex { !isWhitespace($0) }! + 1
      return .success(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }
    return try result.get()
  }

  /// The app's own claims of a verified token's payload (every member but the protected ones), as one JSON
  /// object with the members exactly as they were written. "{}" when the payload does not parse.
  public static func customClaims(ofPayload payloadJSON: String) -> String {
    let text = Array(payloadJSON.utf8)
    return text.withUnsafeBytes { bytes in
      guard let members = try? objectMembers(bytes) else { return "{}" }
      var output = "{"
      for member in members where !protectedClaimNames.contains(member.name) {
        if output.count > 1 { output += "," }
        output += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.nameRange]), as: UTF8.self)
        output += ":"
        output += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.value.range]), as: UTF8.self)
      }
      return output + "}"
    }
  }

  private static func objectMembers(_ bytes: UnsafeRawBufferPointer) throws(PayloadError) -> [JSONMember] {
    let document: JSONDocument
    do { document = try StrictJSON.parse(bytes) } catch { throw PayloadError.invalidJSON(error.description) }
    guard case .object(let members) = document else { throw PayloadError.notAnObject }
    return members
  }
}
