import NIOCore
import SessionCore
import SessionSidecarWire

/// The contract as a listener outside this module serves it (the gRPC one, in SidecarGRPC): the socket's own
/// dispatcher, counted in the same metrics, plus the key-set stream, forward-auth's decision and readiness. The
/// session rules stay behind it; a transport only translates.
package struct SidecarCalls: Sendable {
  let dispatcher: RequestDispatcher
  let watchers: SigningKeyWatchers
  let metrics: SidecarMetrics
  /// The gateway decision of `/auth/verify`, for Envoy's gRPC ext_authz.
  package let forwardAuth: ForwardAuth
  package let readiness: Readiness

  /// The dispatcher refuses id 0 (the socket's connection-level errors); a transport without ids uses this one.
  private static let requestID: UInt64 = 1

  /// Answers one call as the socket would. WatchSigningKeys is a stream: `signingKeySets()` serves it.
  package func answer(_ call: WireRequest.OneOf_Call) async -> WireResponse {
    var request = WireRequest()
    request.id = Self.requestID
    request.call = call
    let started = NIODeadline.now()
    let response: WireResponse
    switch dispatcher.dispatch(request) {
    case .immediate(let immediate): response = immediate
    case .deferred(let job): response = await job()
    case .watchSigningKeys:
      response = .failure(id: Self.requestID, WireStatus(.internal, "WatchSigningKeys is served as a stream"))
    }
    let name = WireCall(call)
    metrics.answered(name, response)
    metrics.recordDuration(name, nanoseconds: (NIODeadline.now() - started).nanoseconds)
    return response
  }

  /// WatchSigningKeys: the current key set at once, then the set after each change.
  package func signingKeySets() -> AsyncStream<Sessionsidecar_V1_GetSigningKeysResponse> {
    metrics.answered(.watchSigningKeys, .ok(id: Self.requestID))
    return watchers.subscribe()
  }

  /// Serving: a signing key is usable and the database answered recently (what `/readyz` reports).
  package var isReady: Bool { readiness.notReadyReasons.isEmpty }
}

extension Sidecar {
  package var calls: SidecarCalls {
    SidecarCalls(
      dispatcher: dispatcher, watchers: watchers, metrics: metrics,
      forwardAuth: ForwardAuth(service: service, metrics: metrics), readiness: readiness)
  }
}
