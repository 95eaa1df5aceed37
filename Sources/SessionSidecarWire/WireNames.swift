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

extension WireCode {
  /// The code's name in the .proto, e.g. `NOT_FOUND` (gRPC's spelling).
  public var protoName: String {
    guard rawValue != 0 else { return "OK" }
    // protobuf's JSON mapping spells enum values by their .proto names: {"code":"NOT_FOUND"}.
    let parts = ((try? WireStatus(self, "").jsonString()) ?? "").split(separator: "\"")
    return parts.count >= 4 ? String(parts[3]) : "CODE_\(rawValue)"
  }
}
