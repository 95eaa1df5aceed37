/// What went wrong in a cryptographic operation. Messages name the operation and OpenSSL's reason, never key
/// material or the data being processed, so they are safe to log.
public enum CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
  /// An OpenSSL call returned failure; `reason` is OpenSSL's own error string for it.
  case openSSL(operation: String, reason: String)
  /// A key was unreadable, of the wrong type, or outside the accepted sizes.
  case invalidKey(String)
  /// An input (nonce, sealed box, size) was malformed, or authentication of a sealed box failed.
  case invalidInput(String)

  public var description: String {
    switch self {
    case .openSSL(let operation, let reason): "OpenSSL \(operation) failed: \(reason)"
    case .invalidKey(let message): "invalid key: \(message)"
    case .invalidInput(let message): "invalid input: \(message)"
    }
  }
}
