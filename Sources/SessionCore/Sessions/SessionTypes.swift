/// What a client learns about a session from a verified access token.
public struct SessionView: Sendable, Equatable {
  public var handle: String
  public var userID: String
  /// The access token's whole payload: protected claims and the app's own.
  public var accessTokenPayloadJSON: String
  /// When the access token expires.
  public var accessTokenExpiresAtMs: Int64
}

public struct IssuedToken: Sendable, Equatable {
  public var token: String
  public var expiresAtMs: Int64
}

/// Tokens handed out by CreateSession, RefreshSession and RegenerateAccessToken.
public struct IssuedSession: Sendable, Equatable {
  public var session: SessionView
  public var accessToken: IssuedToken?
  /// Nil when a previous refresh token was accepted inside the grace period: the client keeps the current one.
  public var refreshToken: IssuedToken?
  public var antiCsrfToken: String?
  public var cookies: [SetCookie]
}

public struct CreateSessionInput: Sendable {
  public var userID: String
  public var accessTokenPayloadJSON: String
  public var sessionDataJSON: String
  public var enableAntiCsrf: Bool
  public var useStaticKey: Bool

  public init(
    userID: String, accessTokenPayloadJSON: String = "", sessionDataJSON: String = "", enableAntiCsrf: Bool = false,
    useStaticKey: Bool = false
  ) {
    self.userID = userID
    self.accessTokenPayloadJSON = accessTokenPayloadJSON
    self.sessionDataJSON = sessionDataJSON
    self.enableAntiCsrf = enableAntiCsrf
    self.useStaticKey = useStaticKey
  }
}

public enum VerifyOutcome: Sendable, Equatable {
  /// Valid. When `needsDatabaseCheck` is set the caller must confirm with `sessionIsLive` (off the event loop).
  case ok(SessionView, needsDatabaseCheck: Bool)
  case tryRefreshToken(reason: String)
  case unauthorised(reason: String)
}

public enum RefreshOutcome: Sendable, Equatable {
  case ok(IssuedSession)
  case unauthorised(reason: String)
  /// A genuine but superseded refresh token was used: the session has been revoked.
  case tokenTheftDetected(sessionHandle: String, userID: String)
}

/// A session as GetSession reports it.
public struct StoredSession: Sendable, Equatable {
  public var handle: String
  public var userID: String
  public var sessionDataJSON: String
  public var accessTokenPayloadJSON: String
  public var createdAtMs: Int64
  public var expiresAtMs: Int64
}
