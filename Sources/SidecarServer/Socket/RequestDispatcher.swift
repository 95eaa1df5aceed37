import SessionCore
import SessionSidecarWire

/// How a request is answered.
enum Dispatch: Sendable {
  /// Answered inline on the event loop, with no I/O and no hop (verify, signing keys, bad requests).
  case immediate(WireResponse)
  /// Needs the database: the session service runs it on the database's threads.
  case deferred(@Sendable () async -> WireResponse)
  /// Opens a signing-key stream on this request id.
  case watchSigningKeys
}

/// Maps each call of the wire contract to the session service. With DomainConversions.swift, the only place
/// that knows both the wire types and the domain.
struct RequestDispatcher: Sendable {
  let service: SessionService
  let clock: any WallClock
  let readiness: Readiness
  let metrics: SidecarMetrics

  func dispatch(_ request: WireRequest) -> Dispatch {
    let id = request.id
    guard let call = request.call else {
      return .immediate(.failure(id: id, request.unknownFields.data.isEmpty ? .noCall : .unknownCall))
    }
    // A reply on id 0 would be indistinguishable from a connection-level error.
    guard id != 0 else { return .immediate(.failure(id: 0, .reservedRequestID)) }
    switch call {
    case .verifySession(let r):
      guard !r.accessToken.isEmpty else {
        return .immediate(.failure(id: id, WireStatus(SessionError.invalidInput("access_token is empty"))))
      }
      let outcome = service.verify(
        accessToken: r.accessToken, antiCsrfToken: r.antiCsrfToken, doAntiCsrfCheck: r.doAntiCsrfCheck,
        checkDatabase: r.checkDatabase)
      guard case .ok(let view, needsDatabaseCheck: true) = outcome else {
        return .immediate(Self.ok(id) { $0.verifySession = .init(outcome) })
      }
      return deferred(id) { () async throws(SessionError) in
        let live = try await service.sessionIsLive(handle: view.handle)
        let checked: VerifyOutcome = live ? outcome : .unauthorised(reason: "session revoked")
        return { $0.verifySession = .init(checked) }
      }
    case .getSigningKeys:
      let published = service.keyRing.published(at: clock.nowMs())
      return .immediate(Self.ok(id) { $0.getSigningKeys = .init(published) })
    case .watchSigningKeys:
      return .watchSigningKeys
    case .createSession(let r):
      return deferred(id) { () async throws(SessionError) in
        let issued = try await service.createSession(
          CreateSessionInput(
            userID: r.userID, accessTokenPayloadJSON: r.accessTokenPayloadJson, sessionDataJSON: r.sessionDataJson,
            enableAntiCsrf: r.enableAntiCsrf, useStaticKey: r.useStaticKey))
        return { $0.createSession = .init(issued) }
      }
    case .refreshSession(let r):
      return deferred(id) { () async throws(SessionError) in
        let outcome = try await service.refreshSession(refreshToken: r.refreshToken, antiCsrfToken: r.antiCsrfToken)
        return { $0.refreshSession = .init(outcome) }
      }
    case .revokeSessions(let r):
      return deferred(id) { () async throws(SessionError) in
        let revoked: [String]
        switch r.target {
        case .sessionHandles(let list): revoked = try await service.revokeSessions(handles: list.handles)
        case .userID(let user): revoked = try await service.revokeSessions(userID: user)
        case nil: throw SessionError.invalidInput("give session_handles or user_id")
        }
        return { $0.revokeSessions.revokedSessionHandles = revoked }
      }
    case .listSessions(let r):
      return deferred(id) { () async throws(SessionError) in
        let handles = try await service.listSessions(userID: r.userID)
        return { $0.listSessions.sessionHandles = handles }
      }
    case .getSession(let r):
      return deferred(id) { () async throws(SessionError) in
        let stored = try await service.getSession(handle: r.sessionHandle)
        return { $0.getSession = .init(stored) }
      }
    case .updateSessionData(let r):
      return deferred(id) { () async throws(SessionError) in
        try await service.updateSessionData(handle: r.sessionHandle, sessionDataJSON: r.sessionDataJson)
        return { $0.updateSessionData = .init() }
      }
    case .updateAccessTokenPayload(let r):
      return deferred(id) { () async throws(SessionError) in
        try await service.updateAccessTokenPayload(handle: r.sessionHandle, payloadJSON: r.accessTokenPayloadJson)
        return { $0.updateAccessTokenPayload = .init() }
      }
    case .regenerateAccessToken(let r):
      return deferred(id) { () async throws(SessionError) in
        let issued = try await service.regenerateAccessToken(
          accessToken: r.accessToken, payloadJSON: r.accessTokenPayloadJson)
        return { $0.regenerateAccessToken = .init(issued) }
      }
    case .health:
      // What /readyz reads: the sidecar's own database pings, so Health never waits on the database.
      let reachable = readiness.databaseReachable
      return .immediate(
        Self.ok(id) {
          $0.health.serving = true
          $0.health.version = SidecarVersion.current
          $0.health.databaseReachable = reachable
        })
    }
  }

  static func ok(_ id: UInt64, _ fill: (inout WireResponse) -> Void) -> WireResponse {
    var response = WireResponse.ok(id: id)
    fill(&response)
    return response
  }

  /// A call that needs the database: its result fills an OK response, its error becomes the response's status.
  private func deferred(
    _ id: UInt64,
    _ body: @escaping @Sendable () async throws(SessionError) -> @Sendable (inout WireResponse) -> Void
  ) -> Dispatch {
    .deferred { [metrics] in
      do throws(SessionError) {
        let fill = try await body()
        return Self.ok(id, fill)
      } catch {
        metrics.failed(error)
        return .failure(id: id, WireStatus(error))
      }
    }
  }
}
