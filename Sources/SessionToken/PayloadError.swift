/// Why custom claims or session data were refused. Messages name the claim or the byte position, never the
/// values, so they can be returned to the caller and logged.
public enum PayloadError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Valid JSON, but not an object.
  case notAnObject
  /// Not strict JSON; the text says what and at which byte.
  case invalidJSON(String)
  /// A custom claim uses a name the session layer owns.
  case protectedClaim(String)

  public var description: String {
    switch self {
    case .notAnObject: "payload must be a JSON object"
    case .invalidJSON(let problem): "payload is not valid JSON: \(problem)"
    case .protectedClaim(let name): "payload may not set the protected claim \"\(name)\""
    }
  }
}
