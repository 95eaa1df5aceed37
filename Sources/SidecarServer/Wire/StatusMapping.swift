import SessionCore
import SessionSidecarWire

/// The one place where errors become wire statuses: domain errors and protocol errors.
extension WireStatus {
  init(_ error: SessionError) {
    let code: WireCode =
      switch error {
      case .invalidInput: .invalidArgument
      case .sessionNotFound: .notFound
      case .invalidAccessToken: .unauthenticated
      case .noSigningKey, .databaseUnavailable: .unavailable
      case .databaseFailed, .signingFailed: .internal
      case .limitReached: .resourceExhausted
      }
    self.init(code, error.description)
  }

  init(_ error: ProtocolError) {
    switch error {
    case .zeroLengthFrame: self.init(.invalidArgument, "frame length is zero")
    case .frameTooLarge(let length, let limit):
      self.init(.resourceExhausted, "frame length \(length) exceeds the limit of \(limit) bytes")
    case .undecodableRequest: self.init(.invalidArgument, "frame does not hold a decodable Request")
    case .noCall: self.init(.invalidArgument, "request names no call")
    case .unknownCall: self.init(.unimplemented, "unknown call: this sidecar does not implement it")
    case .reservedRequestID:
      self.init(.invalidArgument, "request id 0 is reserved for connection-level errors; use ids from 1")
    case .tooManyKeyStreams(let limit): self.init(.resourceExhausted, "at most \(limit) key streams per connection")
    case .shuttingDown: self.init(.unavailable, "the sidecar is shutting down")
    case .tooManyConnections(let limit):
      self.init(.resourceExhausted, "the sidecar serves at most \(limit) connections (sidecar.maxConnections)")
    case .peerNotAllowed:
      self.init(.permissionDenied, "this process may not use the sidecar (sidecar.allowedUIDs / allowedGIDs)")
    case .readOnlySocket:
      self.init(
        .permissionDenied,
        "this socket is read-only: it serves VerifySession, GetSigningKeys, WatchSigningKeys and Health")
    }
  }
}

extension WireResponse {
  static func failure(id: UInt64, _ error: ProtocolError) -> WireResponse {
    .failure(id: id, WireStatus(error))
  }
}
