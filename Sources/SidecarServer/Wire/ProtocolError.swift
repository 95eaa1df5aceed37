/// What is wrong with a frame or an envelope, before any session rule is involved. Mapped to a wire status
/// in StatusMapping.swift, beside the mapping of `SessionError`.
enum ProtocolError: Error, Sendable, Equatable {
  case zeroLengthFrame
  case frameTooLarge(length: UInt32, limit: Int)
  /// The frame's bytes are not a `Request`.
  case undecodableRequest
  case noCall
  /// A call field this server does not know (a newer client).
  case unknownCall
  /// Id 0 is where connection-level errors arrive.
  case reservedRequestID
  case tooManyKeyStreams(limit: Int)
  case shuttingDown
  case tooManyConnections(limit: Int)
  /// The peer's user or group is not in sidecar.allowedUIDs / allowedGIDs.
  case peerNotAllowed
  /// A call the read-only socket does not serve.
  case readOnlySocket
}
