import SessionStorage
import SessionToken

extension SessionService {
  /// RevokeSessions by handles: deletes them and logs the revocations for every sidecar.
  public func revokeSessions(handles: [String]) async throws(SessionError) -> [String] {
    guard handles.count <= config.sidecar.maxRevokeHandles else {
      throw .limitReached(.revokeHandles(requested: handles.count, limit: config.sidecar.maxRevokeHandles))
    }
    for handle in handles { try Self.requireHandle(handle) }
    return try await revoke { store, now, expiry in
      try store.revokeSessions(handles: handles, nowMs: now, revocationExpiresAtMs: expiry)
    }
  }

  /// RevokeSessions by user: every session of `userID`.
  public func revokeSessions(userID: String) async throws(SessionError) -> [String] {
    try Self.requireUserID(userID)
    return try await revoke { store, now, expiry in
      try store.revokeSessions(userID: userID, nowMs: now, revocationExpiresAtMs: expiry)
    }
  }

  /// Runs a store revocation, then enforces it here at once (before the log round trip) and logs it.
  private func revoke(
    _ delete: @escaping @Sendable (any SessionStore, _ nowMs: Int64, _ expiresAtMs: Int64) throws -> [String]
  ) async throws(SessionError)
    -> [String]
  {
    let now = clock.nowMs()
    let expiry = revocationExpiry(nowMs: now)
    let revoked = try await withStore { try delete($0, now, expiry) }
    guard !revoked.isEmpty else { return revoked }
    revocations.insert(revoked, expiresAtMs: expiry)
    for handle in revoked { logger.info("session revoked", metadata: ["sessionHandle": "\(handle)"]) }
    return revoked
  }

  /// ListSessions: the user's live session handles.
  public func listSessions(userID: String) async throws(SessionError) -> [String] {
    try Self.requireUserID(userID)
    let now = clock.nowMs()
    return try await withStore { try $0.liveSessionHandles(userID: userID, nowMs: now) }
  }

  /// GetSession: NOT_FOUND when the session does not exist or has expired.
  public func getSession(handle: String) async throws(SessionError) -> StoredSession {
    try Self.requireHandle(handle)
    let now = clock.nowMs()
    guard let record = try await withStore({ try $0.session(handle: handle) }), record.expiresAtMs > now else {
      throw .sessionNotFound
    }
    return StoredSession(
      handle: record.handle, userID: record.userID, sessionDataJSON: record.sessionDataJSON,
      accessTokenPayloadJSON: record.accessTokenPayloadJSON, createdAtMs: record.createdAtMs,
      expiresAtMs: record.expiresAtMs)
  }

  /// UpdateSessionData.
  public func updateSessionData(handle: String, sessionDataJSON: String) async throws(SessionError) {
    try Self.requireHandle(handle)
    let data = try Self.validatedJSONObject(sessionDataJSON, field: "session_data_json")
    try await updateLiveSession(handle: handle) { $0.sessionDataJSON = data }
  }

  /// UpdateAccessTokenPayload: the next access token issued for the session carries the new claims.
  public func updateAccessTokenPayload(handle: String, payloadJSON: String) async throws(SessionError) {
    try Self.requireHandle(handle)
    let payload = try validatedCustomClaims(payloadJSON)
    try await updateLiveSession(handle: handle) { [self] record throws(SessionError) in
      record.accessTokenPayloadJSON = payload
      try checkNextAccessTokenFits(record)
    }
  }

  /// RegenerateAccessToken: a new token with the new claims and the same expiry; for an expired token only
  /// the stored claims change and no token is returned.
  public func regenerateAccessToken(accessToken: String, payloadJSON: String) async throws(SessionError)
    -> IssuedSession
  {
    guard !accessToken.isEmpty else { throw .invalidInput("access_token is empty") }
    let payload = try validatedCustomClaims(payloadJSON)
    let now = clock.nowMs()
    let token: VerifiedAccessToken
    let expired: Bool
    switch verifier.verify(accessToken, keys: keyRing, nowMs: now) {
    case .invalid(let reason): throw .invalidAccessToken(reason: reason)
    case .unknownKey: throw .invalidAccessToken(reason: "unknown signing key")
    case .expired(let t): (token, expired) = (t, true)
    case .valid(let t): (token, expired) = (t, false)
    }
    let record = try await updateLiveSession(handle: token.claims.sessionHandle) { [self] record throws(SessionError) in
      record.accessTokenPayloadJSON = payload
      // Nothing is stored when the token with the new claims could not be signed.
      try checkNextAccessTokenFits(record)
    }
    let view = SessionView(
      handle: record.handle, userID: record.userID, accessTokenPayloadJSON: token.payloadJSON,
      accessTokenExpiresAtMs: token.claims.expiresAt * 1000)
    guard !expired else { return issued(view: view, accessToken: nil, refreshToken: nil, record: record) }
    let (newToken, newView) = try signAccessToken(
      session: record, customClaimsJSON: payload, refreshTokenHash1: token.claims.refreshTokenHash1,
      parentRefreshTokenHash1: token.claims.parentRefreshTokenHash1, nowMs: now, expiresAt: token.claims.expiresAt)
    return issued(view: newView, accessToken: newToken, refreshToken: nil, record: record)
  }

  /// Checks custom claims now, so a collision with a protected claim is refused before it is stored.
  private func validatedCustomClaims(_ json: String) throws(SessionError) -> String {
    let payload = try Self.validatedJSONObject(json, field: "access_token_payload_json")
    let probe = AccessTokenClaims(
      subject: "", expiresAt: 0, issuedAt: 0, sessionHandle: "", refreshTokenHash1: "", parentRefreshTokenHash1: nil,
      antiCsrfToken: nil)
    do {
      _ = try AccessTokenPayload.build(claims: probe, customJSON: payload)
    } catch {
      throw .invalidInput("access_token_payload_json: \(error)")
    }
    return payload
  }

  /// Signs the largest access token the session's next refresh can issue (real user id, handle, anti-CSRF token
  /// and key; both refresh-token hashes present): a payload that would make it too large is refused now, not
  /// discovered at the next refresh, which could then never succeed.
  func checkNextAccessTokenFits(_ record: SessionRecord) throws(SessionError) {
    let hash = String(repeating: "f", count: 64)
    _ = try signAccessToken(
      session: record, customClaimsJSON: record.accessTokenPayloadJSON, refreshTokenHash1: hash,
      parentRefreshTokenHash1: hash, nowMs: clock.nowMs())
  }

  @discardableResult
  private func updateLiveSession(
    handle: String, _ change: @escaping @Sendable (inout SessionRecord) throws(SessionError) -> Void
  ) async throws(SessionError) -> SessionRecord {
    let now = clock.nowMs()
    let updated: SessionRecord? = try await withStore { store in
      try store.updateSession(handle: handle) { record, _ -> (SessionChange, SessionRecord?) in
        guard var record, record.expiresAtMs > now else { return (.keep, nil) }
        try change(&record)
        return (.replace(record), record)
      }
    }
    guard let updated else { throw .sessionNotFound }
    return updated
  }
}
