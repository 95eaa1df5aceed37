/// Why a call could not be carried out, in domain terms. The server maps each case to one wire status
/// (SidecarProtocol/StatusMapping.swift). Messages never hold a token, a hash or a key.
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidArgument(String)
  case notFound(String)
  /// The access token given to a call that needs a valid one is malformed, forged or unknown.
  case unauthenticated(String)
  case failedPrecondition(String)
  /// A dependency (the database) is unavailable; the caller may retry.
  case unavailable(String)
  case unimplemented(String)
  case `internal`(String)

  public var description: String {
    switch self {
    case .invalidArgument(let m), .notFound(let m), .unauthenticated(let m), .failedPrecondition(let m),
      .unavailable(let m), .unimplemented(let m), .internal(let m):
      m
    }
  }
}
