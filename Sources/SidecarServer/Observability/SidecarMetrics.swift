import CoreMetrics
import Metrics
import Prometheus
import SessionCore
import SessionSidecarWire
import Synchronization

/// The sidecar's metrics (swift-metrics instruments backed by a Prometheus registry of this sidecar's own),
/// exposed at `GET /metrics` on the loopback HTTP listener, every name prefixed `session_sidecar_`.
///
/// Every instrument is made once, here: the request path only indexes an array and increments an atomic
/// counter. Durations of VerifySession are sampled (one in `verifySampleEvery` per connection) because
/// recording into a histogram takes a lock; every other call's duration is recorded.
public final class SidecarMetrics: Sendable {
  /// What a request's `outcome` label says: a session outcome for OK answers, else the status.
  enum Outcome: Int, CaseIterable {
    case ok, tryRefreshToken, unauthorised, tokenTheftDetected
    case invalidArgument, notFound, unauthenticated, permissionDenied, resourceExhausted, unavailable
    case unimplemented, `internal`, otherError

    var label: String {
      switch self {
      case .ok: "ok"
      case .tryRefreshToken: "try_refresh_token"
      case .unauthorised: "unauthorised"
      case .tokenTheftDetected: "token_theft_detected"
      case .invalidArgument: "invalid_argument"
      case .notFound: "not_found"
      case .unauthenticated: "unauthenticated"
      case .permissionDenied: "permission_denied"
      case .resourceExhausted: "resource_exhausted"
      case .unavailable: "unavailable"
      case .unimplemented: "unimplemented"
      case .internal: "internal"
      case .otherError: "other_error"
      }
    }

    init(_ response: WireResponse) {
      switch response.status.code {
      case .ok:
        switch response.result {
        case .verifySession(let r) where r.outcome == .tryRefreshToken: self = .tryRefreshToken
        case .verifySession(let r) where r.outcome == .unauthorised: self = .unauthorised
        case .refreshSession(let r) where r.outcome == .unauthorised: self = .unauthorised
        case .refreshSession(let r) where r.outcome == .tokenTheftDetected: self = .tokenTheftDetected
        default: self = .ok
        }
      case .invalidArgument: self = .invalidArgument
      case .notFound: self = .notFound
      case .unauthenticated: self = .unauthenticated
      case .permissionDenied: self = .permissionDenied
      case .resourceExhausted: self = .resourceExhausted
      case .unavailable: self = .unavailable
      case .unimplemented: self = .unimplemented
      case .internal: self = .internal
      default: self = .otherError
      }
    }
  }

  /// Limits whose hits are counted (`limits_hit_total{limit}`).
  public enum Limit: String, CaseIterable, Sendable {
    case frameBytes = "frame_bytes"
    case inFlightPerConnection = "in_flight_per_connection"
    case keyStreamsPerConnection = "key_streams_per_connection"
    case connections
    case idleTimeout = "idle_timeout"
    case revokeHandles = "revoke_handles"
    case queuedDatabaseWork = "queued_database_work"
  }

  static let verifySampleEvery = 16

  public let registry = PrometheusCollectorRegistry()
  private let requests: [[CoreMetrics.Counter]]
  private let durations: [CoreMetrics.Timer]
  /// Requests without a call (undecodable frames, empty envelopes).
  private let protocolErrors: CoreMetrics.Counter
  private let limits: [CoreMetrics.Counter]
  let openConnections: CoreMetrics.Gauge
  let databaseErrors: CoreMetrics.Counter
  let databaseReachable: CoreMetrics.Gauge
  let signingKeyAge: CoreMetrics.Gauge
  let signingKeyRotations: CoreMetrics.Counter
  let poolInUse: CoreMetrics.Gauge
  let poolWaiting: CoreMetrics.Gauge
  let cacheHits: CoreMetrics.Counter
  let cacheMisses: CoreMetrics.Counter
  let cacheEntries: CoreMetrics.Gauge
  private let connections = Atomic<Int>(0)

  public init() {
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = [
      .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]
    requests = WireCall.allCases.map { call in
      Outcome.allCases.map { outcome in
        CoreMetrics.Counter(
          label: "session_sidecar_requests_total", dimensions: [("call", call.name), ("outcome", outcome.label)],
          factory: factory)
      }
    }
    durations = WireCall.allCases.map { call in
      CoreMetrics.Timer(
        label: "session_sidecar_request_duration_seconds", dimensions: [("call", call.name)], factory: factory)
    }
    protocolErrors = CoreMetrics.Counter(label: "session_sidecar_protocol_errors_total", factory: factory)
    limits = Limit.allCases.map {
      CoreMetrics.Counter(
        label: "session_sidecar_limits_hit_total", dimensions: [("limit", $0.rawValue)], factory: factory)
    }
    openConnections = CoreMetrics.Gauge(label: "session_sidecar_connections_open", factory: factory)
    databaseErrors = CoreMetrics.Counter(label: "session_sidecar_database_errors_total", factory: factory)
    databaseReachable = CoreMetrics.Gauge(label: "session_sidecar_database_reachable", factory: factory)
    signingKeyAge = CoreMetrics.Gauge(label: "session_sidecar_signing_key_age_seconds", factory: factory)
    signingKeyRotations = CoreMetrics.Counter(label: "session_sidecar_signing_key_rotations_total", factory: factory)
    poolInUse = CoreMetrics.Gauge(label: "session_sidecar_db_pool_in_use", factory: factory)
    poolWaiting = CoreMetrics.Gauge(label: "session_sidecar_db_pool_waiting", factory: factory)
    cacheHits = CoreMetrics.Counter(label: "session_sidecar_verify_cache_hits_total", factory: factory)
    cacheMisses = CoreMetrics.Counter(label: "session_sidecar_verify_cache_misses_total", factory: factory)
    cacheEntries = CoreMetrics.Gauge(label: "session_sidecar_verify_cache_entries", factory: factory)
  }

  /// Counts an answered request.
  func answered(_ call: WireCall, _ response: WireResponse) {
    requests[call.index][Outcome(response).rawValue].increment()
  }

  func recordDuration(_ call: WireCall, nanoseconds: Int64) {
    durations[call.index].recordNanoseconds(nanoseconds)
  }

  /// Counts what a failed session call says about the sidecar: a limit reached, a database error.
  func failed(_ error: SessionError) {
    switch error {
    case .limitReached(.revokeHandles): limitHit(.revokeHandles)
    case .limitReached(.queuedDatabaseCalls): limitHit(.queuedDatabaseWork)
    case .databaseUnavailable, .databaseFailed: databaseErrors.increment()
    default: break
    }
  }

  /// Counts a verify answered outside the socket (forward-auth, ext_authz).
  func verified(_ outcome: Outcome) {
    requests[WireCall.verifySession.index][outcome.rawValue].increment()
  }

  func protocolError() { protocolErrors.increment() }

  func connectionOpened() { openConnections.record(connections.add(1, ordering: .relaxed).newValue) }
  func connectionClosed() { openConnections.record(connections.subtract(1, ordering: .relaxed).newValue) }

  public func limitHit(_ limit: Limit) { limits[Limit.allCases.firstIndex(of: limit)!].increment() }

  /// The exposition text for `GET /metrics`.
  func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension WireCall {
  /// The call's position in `allCases`, for array-indexed instruments.
  var index: Int {
    switch self {
    case .createSession: 0
    case .verifySession: 1
    case .refreshSession: 2
    case .revokeSessions: 3
    case .listSessions: 4
    case .getSession: 5
    case .updateSessionData: 6
    case .updateAccessTokenPayload: 7
    case .regenerateAccessToken: 8
    case .getSigningKeys: 9
    case .watchSigningKeys: 10
    case .health: 11
    }
  }
}
