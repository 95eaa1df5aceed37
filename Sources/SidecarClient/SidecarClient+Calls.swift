import SessionSidecarWire

/// One method per call of the contract. Session outcomes (TRY_REFRESH_TOKEN, UNAUTHORISED,
/// TOKEN_THEFT_DETECTED) are values in the results; a non-OK status throws `SidecarCallError`, a transport
/// failure `SidecarClientError`.
extension SidecarClient {
  public typealias CreateSessionResult = Sessionsidecar_V1_CreateSessionResponse
  public typealias VerifySessionResult = Sessionsidecar_V1_VerifySessionResponse
  public typealias RefreshSessionResult = Sessionsidecar_V1_RefreshSessionResponse
  public typealias GetSessionResult = Sessionsidecar_V1_GetSessionResponse
  public typealias RegenerateAccessTokenResult = Sessionsidecar_V1_RegenerateAccessTokenResponse
  public typealias SigningKeys = Sessionsidecar_V1_GetSigningKeysResponse
  public typealias HealthResult = Sessionsidecar_V1_HealthResponse

  public func createSession(
    userID: String, accessTokenPayloadJSON: String = "", sessionDataJSON: String = "", enableAntiCsrf: Bool = false,
    useStaticKey: Bool = false, timeout: Duration? = nil
  ) async throws -> CreateSessionResult {
    var request = WireRequest()
    request.createSession.userID = userID
    request.createSession.accessTokenPayloadJson = accessTokenPayloadJSON
    request.createSession.sessionDataJson = sessionDataJSON
    request.createSession.enableAntiCsrf = enableAntiCsrf
    request.createSession.useStaticKey = useStaticKey
    return try await checkedCall(request, timeout: timeout).createSession
  }

  public func verifySession(
    accessToken: String, antiCsrfToken: String = "", doAntiCsrfCheck: Bool = false, checkDatabase: Bool = false,
    timeout: Duration? = nil
  ) async throws -> VerifySessionResult {
    var request = WireRequest()
    request.verifySession.accessToken = accessToken
    request.verifySession.antiCsrfToken = antiCsrfToken
    request.verifySession.doAntiCsrfCheck = doAntiCsrfCheck
    request.verifySession.checkDatabase = checkDatabase
    return try await checkedCall(request, timeout: timeout).verifySession
  }

  public func refreshSession(refreshToken: String, antiCsrfToken: String = "", timeout: Duration? = nil)
    async throws -> RefreshSessionResult
  {
    var request = WireRequest()
    request.refreshSession.refreshToken = refreshToken
    request.refreshSession.antiCsrfToken = antiCsrfToken
    return try await checkedCall(request, timeout: timeout).refreshSession
  }

  /// Revokes the given sessions; returns the handles that existed.
  public func revokeSessions(handles: [String], timeout: Duration? = nil) async throws -> [String] {
    var request = WireRequest()
    request.revokeSessions.sessionHandles.handles = handles
    return try await checkedCall(request, timeout: timeout).revokeSessions.revokedSessionHandles
  }

  /// Revokes every session of `userID`; returns their handles.
  public func revokeSessions(userID: String, timeout: Duration? = nil) async throws -> [String] {
    var request = WireRequest()
    request.revokeSessions.userID = userID
    return try await checkedCall(request, timeout: timeout).revokeSessions.revokedSessionHandles
  }

  /// The user's live session handles.
  public func listSessions(userID: String, timeout: Duration? = nil) async throws -> [String] {
    var request = WireRequest()
    request.listSessions.userID = userID
    return try await checkedCall(request, timeout: timeout).listSessions.sessionHandles
  }

  public func getSession(handle: String, timeout: Duration? = nil) async throws -> GetSessionResult {
    var request = WireRequest()
    request.getSession.sessionHandle = handle
    return try await checkedCall(request, timeout: timeout).getSession
  }

  public func updateSessionData(handle: String, sessionDataJSON: String, timeout: Duration? = nil) async throws {
    var request = WireRequest()
    request.updateSessionData.sessionHandle = handle
    request.updateSessionData.sessionDataJson = sessionDataJSON
    _ = try await checkedCall(request, timeout: timeout)
  }

  public func updateAccessTokenPayload(handle: String, accessTokenPayloadJSON: String, timeout: Duration? = nil)
    async throws
  {
    var request = WireRequest()
    request.updateAccessTokenPayload.sessionHandle = handle
    request.updateAccessTokenPayload.accessTokenPayloadJson = accessTokenPayloadJSON
    _ = try await checkedCall(request, timeout: timeout)
  }

  public func regenerateAccessToken(accessToken: String, accessTokenPayloadJSON: String, timeout: Duration? = nil)
    async throws -> RegenerateAccessTokenResult
  {
    var request = WireRequest()
    request.regenerateAccessToken.accessToken = accessToken
    request.regenerateAccessToken.accessTokenPayloadJson = accessTokenPayloadJSON
    return try await checkedCall(request, timeout: timeout).regenerateAccessToken
  }

  public func signingKeys(timeout: Duration? = nil) async throws -> SigningKeys {
    var request = WireRequest()
    request.getSigningKeys = .init()
    return try await checkedCall(request, timeout: timeout).getSigningKeys
  }

  /// The key set now, then again each time it changes, until the connection closes (the sequence then throws
  /// `SidecarClientError.connectionClosed`) or the sidecar ends the stream (`SidecarCallError`, e.g.
  /// UNAVAILABLE while it shuts down).
  public func watchSigningKeys() async throws -> AsyncMapSequence<
    AsyncThrowingStream<WireResponse, any Error>, SigningKeys
  > {
    var request = WireRequest()
    request.watchSigningKeys = .init()
    return try await stream(request).map { $0.watchSigningKeys }
  }

  public func health(timeout: Duration? = nil) async throws -> HealthResult {
    var request = WireRequest()
    request.health = .init()
    return try await checkedCall(request, timeout: timeout).health
  }
}
