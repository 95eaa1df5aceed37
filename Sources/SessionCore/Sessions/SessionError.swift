/// Why a session call could not be carried out, in domain terms. Session outcomes (an expired token, a stolen
/// refresh token) are not errors: they are results. The server maps each case to one wire status
/// (SidecarServer/Wire/StatusMapping.swift). Messages never hold a token, a hash or a key.
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A field of the call is empty, too large or malformed; the message names the field.
  case invalidInput(String)
  /// The session does not exist, or has expired.
  case sessionNotFound
  /// A call that needs a valid access token was given a malformed, forged or unknown-key one.
  case invalidAccessToken(reason: String)
  /// No key can sign yet: the sidecar is starting, or has never reached the database.
  case noSigningKey
  /// The database cannot be reached; the caller may retry.
  case databaseUnavailable(String)
  /// The database failed in a way a retry will not fix.
  case databaseFailed(String)
  /// OpenSSL could not sign.
  case signingFailed(String)
  /// A configured limit was reached; the caller may retry later (or send less).
  case limitReached(SessionLimit)

  public var description: String {
    switch self {
    case .invalidInput(let message): message
    case .sessionNotFound: "session not found or expired"
    case .invalidAccessToken(let reason): "access token is not valid: \(reason)"
    case .noSigningKey: "no signing key is loaded yet; the sidecar is still starting or cannot reach the database"
    case .databaseUnavailable(let message): "database unavailable: \(message)"
    case .databaseFailed(let message): message
    case .signingFailed(let message): "signing failed: \(message)"
    case .limitReached(let limit): limit.description
    }
  }
}

/// The limits a session call can reach, each named by its configuration key.
public enum SessionLimit: Sendable, Equatable, CustomStringConvertible {
  case revokeHandles(requested: Int, limit: Int)
  case queuedDatabaseCalls(limit: Int)

  public var description: String {
    switch self {
    case .revokeHandles(let requested, let limit):
      "RevokeSessions names \(requested) session handles; at most \(limit) per call (sidecar.maxRevokeHandles)"
    case .queuedDatabaseCalls(let limit):
      "\(limit) database calls are already waiting (sidecar.maxQueuedDatabaseCalls); retry later"
    }
  }
}

/// Why a signing key cannot be used: the operator's key file or the key-encryption key is wrong. Reported at
/// start (exit status 2 or 3) and in the key rounds' logs.
public enum SigningKeyError: Error, Sendable, Equatable, CustomStringConvertible {
  case keyEncryptionKeyLength(Int)
  case sealedWithoutKeyEncryptionKey(kid: String)
  case doesNotOpen(kid: String)
  case keyFileUnreadable(path: String)
  case keyFileNotAnRSAKey(path: String)

  public var description: String {
    switch self {
    case .keyEncryptionKeyLength(let count): "the key-encryption key must be exactly 32 bytes, found \(count)"
    case .sealedWithoutKeyEncryptionKey(let kid):
      "signing key \(kid) is sealed but sidecar.keyEncryptionKeyFile is not set"
    case .doesNotOpen(let kid): "signing key \(kid) does not open with the configured key-encryption key"
    case .keyFileUnreadable(let path): "tokens.accessToken.signingKey.file: cannot read \(path)"
    case .keyFileNotAnRSAKey(let path):
      "tokens.accessToken.signingKey.file (\(path)): not a usable RSA private key (PEM, at least 2048 bits)"
    }
  }
}
