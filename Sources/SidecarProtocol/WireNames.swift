import SwiftProtobuf

/// Short names for the generated wire types (package `sessionsidecar.v1`).
public typealias WireRequest = Sessionsidecar_V1_Request
public typealias WireResponse = Sessionsidecar_V1_Response
public typealias WireStatus = Sessionsidecar_V1_Status
public typealias WireCode = Sessionsidecar_V1_Code

/// The version reported by Health.
public enum SidecarVersion {
  public static let current = "0.1.0"
}
