import GRPCCore
import SessionSidecarWire
import SidecarServer

/// The one place where gRPC status codes are chosen. Domain and protocol errors become wire statuses in
/// SidecarServer's StatusMapping.swift; here a wire status becomes gRPC's (the wire's `Code` already carries
/// gRPC's numbers, so the switch is spelled-out identity), and Envoy's ext_authz and gRPC health get theirs.
enum GRPCStatusMapping {
  /// A non-OK wire status's gRPC code. OK has no `RPCError` and a code this build does not know is the
  /// sidecar's own fault: both become INTERNAL.
  static func code(_ code: WireCode) -> RPCError.Code {
    switch code {
    case .invalidArgument: .invalidArgument
    case .deadlineExceeded: .deadlineExceeded
    case .notFound: .notFound
    case .permissionDenied: .permissionDenied
    case .resourceExhausted: .resourceExhausted
    case .failedPrecondition: .failedPrecondition
    case .unimplemented: .unimplemented
    case .internal: .internalError
    case .unavailable: .unavailable
    case .unauthenticated: .unauthenticated
    case .ok, .UNRECOGNIZED: .internalError
    }
  }

  /// The result of an answered call, or its status thrown as the gRPC error with the same code and message.
  static func result<Result>(
    of response: WireResponse, _ extract: (WireResponse) -> Result
  ) throws(RPCError) -> Result {
    guard response.status.code == .ok else {
      throw RPCError(code: code(response.status.code), message: response.status.message)
    }
    return extract(response)
  }

  /// A server stream (WatchSigningKeys, health Watch) ended because the sidecar is draining: as the socket ends
  /// its key streams.
  static let shuttingDown = RPCError(code: .unavailable, message: "the sidecar is shutting down")

  /// grpc.health.v1 Check for a service this server does not have (the health protocol's rule).
  static func unknownHealthService(_ name: String) -> RPCError {
    RPCError(code: .notFound, message: "unknown service \(name)")
  }

  /// `CheckResponse.status.code` (a google.rpc.Status) of Envoy's ext_authz: OK lets the request through;
  /// UNAUTHENTICATED refuses it, with the denied response's 401 going to the client.
  static func extAuthzCode(_ decision: ForwardAuth.Decision) -> Int32 {
    switch decision {
    case .allow: Int32(Status.Code.ok.rawValue)
    case .tryRefreshToken, .unauthorised: Int32(Status.Code.unauthenticated.rawValue)
    }
  }
}
