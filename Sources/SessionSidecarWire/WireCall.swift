/// The calls of the contract, by the names the .proto gives them (`service SessionSidecar`). Used for request
/// building by name (the CLI's `call`), for logs and for metric labels.
public enum WireCall: String, CaseIterable, Sendable {
  case createSession = "CreateSession"
  case verifySession = "VerifySession"
  case refreshSession = "RefreshSession"
  case revokeSessions = "RevokeSessions"
  case listSessions = "ListSessions"
  case getSession = "GetSession"
  case updateSessionData = "UpdateSessionData"
  case updateAccessTokenPayload = "UpdateAccessTokenPayload"
  case regenerateAccessToken = "RegenerateAccessToken"
  case getSigningKeys = "GetSigningKeys"
  case watchSigningKeys = "WatchSigningKeys"
  case health = "Health"

  /// The rpc name, e.g. `CreateSession`.
  public var name: String { rawValue }

  /// The field name in `Request`/`Response`, e.g. `create_session`.
  public var fieldName: String {
    var result = ""
    for character in rawValue {
      if character.isUppercase, !result.isEmpty { result.append("_") }
      result.append(character.lowercased())
    }
    return result
  }

  /// The field's name in protobuf's JSON mapping, e.g. `createSession`.
  public var jsonName: String { rawValue.prefix(1).lowercased() + rawValue.dropFirst() }

  /// Accepts the rpc name (`CreateSession`) or the field name (`create_session`), in any letter case.
  public init?(named name: String) {
    let wanted = String(name.lowercased().filter { $0 != "_" })
    guard let call = Self.allCases.first(where: { $0.rawValue.lowercased() == wanted }) else { return nil }
    self = call
  }

  public init(_ call: WireRequest.OneOf_Call) {
    switch call {
    case .createSession: self = .createSession
    case .verifySession: self = .verifySession
    case .refreshSession: self = .refreshSession
    case .revokeSessions: self = .revokeSessions
    case .listSessions: self = .listSessions
    case .getSession: self = .getSession
    case .updateSessionData: self = .updateSessionData
    case .updateAccessTokenPayload: self = .updateAccessTokenPayload
    case .regenerateAccessToken: self = .regenerateAccessToken
    case .getSigningKeys: self = .getSigningKeys
    case .watchSigningKeys: self = .watchSigningKeys
    case .health: self = .health
    }
  }
}
