import SessionCore
import SessionSidecarWire

extension Sessionsidecar_V1_Session {
  init(_ view: SessionView) {
    self.init()
    handle = view.handle
    userID = view.userID
    accessTokenPayloadJson = view.accessTokenPayloadJSON
    expiresAtMs = view.accessTokenExpiresAtMs
  }
}

extension Sessionsidecar_V1_Token {
  init(_ token: IssuedToken) {
    self.init()
    self.token = token.token
    expiresAtMs = token.expiresAtMs
  }
}

extension Sessionsidecar_V1_Cookie {
  init(_ cookie: SetCookie) {
    self.init()
    name = cookie.name
    value = cookie.value
    path = cookie.path
    domain = cookie.domain
    expiresAtMs = cookie.expiresAtMs
    httpOnly = cookie.httpOnly
    secure = cookie.secure
    sameSite = cookie.sameSite
    setCookieHeader = cookie.header
  }
}

/// The responses that hand out tokens (CreateSession, RefreshSession) share these fields.
protocol IssuedTokensMessage {
  var session: Sessionsidecar_V1_Session { get set }
  var accessToken: Sessionsidecar_V1_Token { get set }
  var refreshToken: Sessionsidecar_V1_Token { get set }
  var antiCsrfToken: String { get set }
  var cookies: [Sessionsidecar_V1_Cookie] { get set }
}

extension IssuedTokensMessage {
  mutating func fill(from issued: IssuedSession) {
    session = .init(issued.session)
    if let token = issued.accessToken { accessToken = .init(token) }
    if let token = issued.refreshToken { refreshToken = .init(token) }
    antiCsrfToken = issued.antiCsrfToken ?? ""
    cookies = issued.cookies.map(Sessionsidecar_V1_Cookie.init)
  }
}

extension Sessionsidecar_V1_CreateSessionResponse: IssuedTokensMessage {
  init(_ issued: IssuedSession) {
    self.init()
    fill(from: issued)
  }
}

extension Sessionsidecar_V1_RefreshSessionResponse: IssuedTokensMessage {}

extension Sessionsidecar_V1_VerifySessionResponse {
  init(_ outcome: VerifyOutcome) {
    self.init()
    switch outcome {
    case .ok(let view, _):
      self.outcome = .ok
      session = .init(view)
    case .tryRefreshToken(let reason):
      self.outcome = .tryRefreshToken
      self.reason = reason
    case .unauthorised(let reason):
      self.outcome = .unauthorised
      self.reason = reason
    }
  }
}

extension Sessionsidecar_V1_RefreshSessionResponse {
  init(_ outcome: RefreshOutcome) {
    self.init()
    switch outcome {
    case .ok(let issued):
      self.outcome = .ok
      fill(from: issued)
    case .unauthorised(let reason):
      self.outcome = .unauthorised
      self.reason = reason
    case .tokenTheftDetected(let handle, let userID):
      self.outcome = .tokenTheftDetected
      reason = "refresh token reused: session revoked"
      session.handle = handle
      session.userID = userID
    }
  }
}

extension Sessionsidecar_V1_RegenerateAccessTokenResponse {
  init(_ issued: IssuedSession) {
    self.init()
    session = .init(issued.session)
    if let token = issued.accessToken { accessToken = .init(token) }
    cookies = issued.cookies.map(Sessionsidecar_V1_Cookie.init)
  }
}

extension Sessionsidecar_V1_GetSessionResponse {
  init(_ stored: StoredSession) {
    self.init()
    sessionHandle = stored.handle
    userID = stored.userID
    sessionDataJson = stored.sessionDataJSON
    accessTokenPayloadJson = stored.accessTokenPayloadJSON
    createdAtMs = stored.createdAtMs
    expiresAtMs = stored.expiresAtMs
  }
}

extension Sessionsidecar_V1_GetSigningKeysResponse {
  init(_ published: PublishedKeySet) {
    self.init()
    jwksJson = published.jwksJSON
    cacheMaxAgeS = published.cacheMaxAgeSeconds
    keys = published.keys.map { key in
      var wire = Sessionsidecar_V1_SigningKey()
      wire.kid = key.kid
      wire.alg = key.algorithm
      wire.kind = key.kind == .static ? .static : .dynamic
      wire.publicKeyPem = key.publicKeyPEM
      wire.createdAtMs = key.createdAtMs
      wire.expiresAtMs = key.expiresAtMs
      return wire
    }
  }
}
