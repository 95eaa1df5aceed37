import GRPCCore
import SessionSidecarWire
import SidecarServer

/// `sessionsidecar.v1.SessionSidecar` over gRPC. Every call goes to the socket's dispatcher through
/// `SidecarCalls`, so the rules, limits, metrics and statuses are the socket's; only the envelope differs (no
/// request id: gRPC matches the answer to its stream). Session outcomes (expired token, theft) are results with
/// status OK, as on the socket; a call that cannot be carried out throws its wire status as gRPC's.
struct SessionSidecarService: Sessionsidecar_V1_SessionSidecar.SimpleServiceProtocol {
  let calls: SidecarCalls
  let streams: OpenStreams

  func createSession(
    request: Sessionsidecar_V1_CreateSessionRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_CreateSessionResponse {
    try await answer(.createSession(request)) { $0.createSession }
  }

  func verifySession(
    request: Sessionsidecar_V1_VerifySessionRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_VerifySessionResponse {
    try await answer(.verifySession(request)) { $0.verifySession }
  }

  func refreshSession(
    request: Sessionsidecar_V1_RefreshSessionRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_RefreshSessionResponse {
    try await answer(.refreshSession(request)) { $0.refreshSession }
  }

  func revokeSessions(
    request: Sessionsidecar_V1_RevokeSessionsRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_RevokeSessionsResponse {
    try await answer(.revokeSessions(request)) { $0.revokeSessions }
  }

  func listSessions(
    request: Sessionsidecar_V1_ListSessionsRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_ListSessionsResponse {
    try await answer(.listSessions(request)) { $0.listSessions }
  }

  func getSession(
    request: Sessionsidecar_V1_GetSessionRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_GetSessionResponse {
    try await answer(.getSession(request)) { $0.getSession }
  }

  func updateSessionData(
    request: Sessionsidecar_V1_UpdateSessionDataRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_UpdateSessionDataResponse {
    try await answer(.updateSessionData(request)) { $0.updateSessionData }
  }

  func updateAccessTokenPayload(
    request: Sessionsidecar_V1_UpdateAccessTokenPayloadRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_UpdateAccessTokenPayloadResponse {
    try await answer(.updateAccessTokenPayload(request)) { $0.updateAccessTokenPayload }
  }

  func regenerateAccessToken(
    request: Sessionsidecar_V1_RegenerateAccessTokenRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_RegenerateAccessTokenResponse {
    try await answer(.regenerateAccessToken(request)) { $0.regenerateAccessToken }
  }

  func getSigningKeys(
    request: Sessionsidecar_V1_GetSigningKeysRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_GetSigningKeysResponse {
    try await answer(.getSigningKeys(request)) { $0.getSigningKeys }
  }

  /// The current key set at once, then the set after each change, until the client cancels or the sidecar
  /// drains (UNAVAILABLE).
  func watchSigningKeys(
    request: Sessionsidecar_V1_WatchSigningKeysRequest,
    response: RPCWriter<Sessionsidecar_V1_GetSigningKeysResponse>, context: ServerContext
  ) async throws {
    let sets = calls.signingKeySets()
    try await streams.run {
      for await keys in sets { try await response.write(keys) }
    }
  }

  func health(
    request: Sessionsidecar_V1_HealthRequest, context: ServerContext
  ) async throws -> Sessionsidecar_V1_HealthResponse {
    try await answer(.health(request)) { $0.health }
  }

  private func answer<Result>(
    _ call: WireRequest.OneOf_Call, _ extract: (WireResponse) -> Result
  ) async throws(RPCError) -> Result {
    try GRPCStatusMapping.result(of: await calls.answer(call), extract)
  }
}
