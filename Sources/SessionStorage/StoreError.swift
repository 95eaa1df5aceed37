/// What can go wrong in a store, in domain terms. Messages never carry a token, a hash, a key or a password.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The database cannot be reached (down, network, lost connection); callers answer UNAVAILABLE and retry.
  case unavailable(String)
  /// A unique key already exists (e.g. a signing key for a rotation slot another sidecar just created).
  case duplicate(String)
  /// The configuration or the database's state is wrong in a way the operator must fix (bad credentials,
  /// missing database, table with a newer schema).
  case misconfigured(String)
  /// Anything else the database reported.
  case failed(String)

  public var description: String {
    switch self {
    case .unavailable(let m): "database unavailable: \(m)"
    case .duplicate(let m): "duplicate: \(m)"
    case .misconfigured(let m): "database misconfigured: \(m)"
    case .failed(let m): "database error: \(m)"
    }
  }
}
