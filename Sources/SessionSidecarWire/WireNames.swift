import SwiftProtobuf

/// Short names for the generated wire types (package `sessionsidecar.v1`).
public typealias WireRequest = Sessionsidecar_V1_Request
public typealias WireResponse = Sessionsidecar_V1_Response
public typealias WireStatus = Sessionsidecar_V1_Status
public typealias WireCode = Sessionsidecar_V1_Code

/// The version reported by Health.
public enum SidecarVersion {
  public static let current = "0.2.0"
}

extension WireStatus {
  public init(_ code: WireCode, _ message: String) {
    self.init()
    self.code = code
    self.message = message
  }

  public static let ok = WireStatus(.ok, "")
}

extension WireResponse {
  /// An OK response to request `id`; the caller sets its result.
  public static func ok(id: UInt64) -> WireResponse {
    var response = WireResponse()
    response.id = id
    response.status = .ok
    return response
  }

  /// A response carrying only a non-OK status.
  public static func failure(id: UInt64, _ status: WireStatus) -> WireResponse {
    var response = WireResponse()
    response.id = id
    response.status = status
    return response
  }
}
