import GRPCCore
import SidecarServer

/// gRPC's standard health protocol (`grpc.health.v1.Health`), for probes: SERVING when the sidecar is ready
/// (a signing key is usable and the database answered recently, as `/readyz` says), NOT_SERVING otherwise
/// and while it drains. The server as a whole ("") and each of its services share that status.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
  let calls: SidecarCalls
  let streams: OpenStreams
  /// How often Watch looks at readiness for a change.
  static let watchInterval = Duration.seconds(1)

  static let services: Set<String> = [
    "", Sessionsidecar_V1_SessionSidecar.descriptor.fullyQualifiedService,
    Envoy_Service_Auth_V3_Authorization.descriptor.fullyQualifiedService,
    Grpc_Health_V1_Health.descriptor.fullyQualifiedService,
  ]

  func check(
    request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
  ) async throws -> Grpc_Health_V1_HealthCheckResponse {
    guard Self.services.contains(request.service) else {
      throw GRPCStatusMapping.unknownHealthService(request.service)
    }
    return .with { $0.status = status }
  }

  /// The status at once, then each time it changes; SERVICE_UNKNOWN (once, the stream stays open) for a service
  /// this server does not have, as the protocol asks.
  func watch(
    request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
    context: ServerContext
  ) async throws {
    let known = Self.services.contains(request.service)
    try await streams.run {
      var sent: Grpc_Health_V1_HealthCheckResponse.ServingStatus? = nil
      while !Task.isCancelled {
        let now = known ? status : .serviceUnknown
        if now != sent {
          try await response.write(.with { $0.status = now })
          sent = now
        }
        try? await Task.sleep(for: Self.watchInterval)
      }
    }
  }

  private var status: Grpc_Health_V1_HealthCheckResponse.ServingStatus {
    calls.isReady && !streams.isDraining ? .serving : .notServing
  }
}
