import SessionCore
import SidecarProtocol

/// How a request is answered.
enum Dispatch: Sendable {
  /// Answered on the event loop, no I/O (verify, signing keys, bad requests).
  case immediate(WireResponse)
  /// Needs the database: runs on the blocking thread pool.
  case blocking(@Sendable () -> WireResponse)
  /// Opens a signing-key stream on this request id.
  case watchSigningKeys
}

/// Maps each call of the wire contract to the session service. The only place that knows both.
struct RequestDispatcher: Sendable {
  let service: SessionService
  let clock: any WallClock

  func dispatch(_ request: WireRequest) -> Dispatch {
    let id = request.id
    guard let call = request.call else {
      return .immediate(
        request.unknownFields.data.isEmpty
          ? .failure(id: id, WireStatus(.invalidArgument, "request names no call"))
          : .failure(id: id, WireStatus(.unimplemented, "unknown call: this sidecar does not implement it")))
    }
    // A reply on id 0 would be indistinguishable from a connection-level error.
    guard id != 0 else {
      return .immediate(
        .failure(
          id: 0, WireStatus(.invalidArgument, "request id 0 is reserved for connection-level errors; use ids from 1")))
    }
    switch call {
    case .verifySession(let r):
      guard !r.accessToken.isEmpty else {
        return .immediate(.failure(id: id, WireStatus(.invalidArgument, "access_token is empty")))
      }
      let outcome = service.verify(
        accessToken: r.accessToken, antiCsrfToken: r.antiCsrfToken, doAntiCsrfCheck: r.doAntiCsrfCheck,
        checkDatabase: r.checkDatabase)
      guard case .ok(let view, needsDatabaseCheck: true) = outcome else {
        return .immediate(Self.ok(id) { $0.verifySession = .init(outcome) })
      }
      return .blocking {
        answer(id) { () throws(SessionError) in
          let live = try service.sessionIsLive(handle: view.handle)
          let checked: VerifyOutcome = live ? outcome : .unauthorised(reason: "session revoked")
          return { $0.verifySession = .init(checked) }
        }
      }
    case .getSigningKeys:
      let published = service.keyRing.published(at: clock.nowMs())
      return .immediate(Self.ok(id) { $0.getSigningKeys = .init(published) })
    case .watchSigningKeys:
      return .watchSigningKeys
    case .createSession(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let issued = try service.createSession(
            CreateSessionInput(
              userID: r.userID, accessTokenPayloadJSON: r.accessTokenPayloadJson, sessionDataJSON: r.sessionDataJson,
              enableAntiCsrf: r.enableAntiCsrf, useStaticKey: r.useStaticKey))
          return { $0.createSession = .init(issued) }
        }
      }
    case .refreshSession(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let outcome = try service.refreshSession(refreshToken: r.refreshToken, antiCsrfToken: r.antiCsrfToken)
          return { $0.refreshSession = .init(outcome) }
        }
      }
    case .revokeSessions(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let revoked: [String]
          switch r.target {
          case .sessionHandles(let list): revoked = try service.revokeSessions(handles: list.handles)
          case .userID(let user): revoked = try service.revokeSessions(userID: user)
          case nil: throw SessionError.invalidArgument("give session_handles or user_id")
          }
          return { $0.revokeSessions.revokedSessionHandles = revoked }
        }
      }
    case .listSessions(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let handles = try service.listSessions(userID: r.userID)
          return { $0.listSessions.sessionHandles = handles }
        }
      }
    case .getSession(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let stored = try service.getSession(handle: r.sessionHandle)
          return { $0.getSession = .init(stored) }
        }
      }
    case .updateSessionData(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          try service.updateSessionData(handle: r.sessionHandle, sessionDataJSON: r.sessionDataJson)
          return { $0.updateSessionData = .init() }
        }
      }
    case .updateAccessTokenPayload(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          try service.updateAccessTokenPayload(handle: r.sessionHandle, payloadJSON: r.accessTokenPayloadJson)
          return { $0.updateAccessTokenPayload = .init() }
        }
      }
    case .regenerateAccessToken(let r):
      return .blocking {
        answer(id) { () throws(SessionError) in
          let issued = try service.regenerateAccessToken(
            accessToken: r.accessToken, payloadJSON: r.accessTokenPayloadJson)
          return { $0.regenerateAccessToken = .init(issued) }
        }
      }
    case .health:
      return .blocking {
        let reachable = service.databaseReachable()
        return Self.ok(id) {
          $0.health.serving = true
          $0.health.version = SidecarVersion.current
          $0.health.databaseReachable = reachable
        }
      }
    }
  }

  static func ok(_ id: UInt64, _ fill: (inout WireResponse) -> Void) -> WireResponse {
    var response = WireResponse.failure(id: id, .ok)
    fill(&response)
    return response
  }

  /// Runs a call; its result fills an OK response, its error becomes the response's status.
  private func answer(
    _ id: UInt64, _ body: () throws(SessionError) -> (inout WireResponse) -> Void
  ) -> WireResponse {
    do {
      let fill = try body()
      return Self.ok(id, fill)
    } catch {
      return .failure(id: id, WireStatus(error))
    }
  }
}
