import SessionCore

/// The one place where domain errors become wire statuses.
extension WireStatus {
  public init(_ code: WireCode, _ message: String) {
    self.init()
    self.code = code
    self.message = message
  }

  public static let ok = WireStatus(.ok, "")

  public init(_ error: SessionError) {
    switch error {
    case .invalidArgument(let m): self.init(.invalidArgument, m)
    case .notFound(let m): self.init(.notFound, m)
    case .unauthenticated(let m): self.init(.unauthenticated, m)
    case .failedPrecondition(let m): self.init(.failedPrecondition, m)
    case .unavailable(let m): self.init(.unavailable, m)
    case .unimplemented(let m): self.init(.unimplemented, m)
    case .internal(let m): self.init(.internal, m)
    }
  }
}

extension WireResponse {
  /// A response carrying only a status (an error, or a call with no result body).
  public static func failure(id: UInt64, _ status: WireStatus) -> WireResponse {
    var response = WireResponse()
    response.id = id
    response.status = status
    return response
  }
}
