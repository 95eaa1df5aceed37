import Synchronization

/// Verifies access tokens in any Swift process, with no database and no sidecar call: the same strict rules
/// as the sidecar, against a published key set that the caller keeps current — from the JWKS file, the HTTP
/// endpoint, or the WatchSigningKeys stream (call `update(jwksJSON:)` with each new set).
public final class OfflineAccessTokenVerifier: Sendable {
  private let keys: Mutex<JWKSet>
  private let verifier: AccessTokenVerifier

  public init(jwksJSON: String, maxTokenBytes: Int = 16 * 1024) throws {
    keys = Mutex(try JWKSet(json: jwksJSON))
    verifier = AccessTokenVerifier(maxTokenBytes: maxTokenBytes)
  }

  /// Replaces the key set; a malformed set is refused and the previous one kept.
  public func update(jwksJSON: String) throws {
    let next = try JWKSet(json: jwksJSON)
    keys.withLock { $0 = next }
  }

  /// `.valid` and `.expired` are authentic tokens; `.unknownKey` means the set lacks the token's kid (refetch
  /// the set once, then treat it as invalid); `.invalid` carries a short reason.
  public func verify(_ token: String, nowMs: Int64) -> AccessTokenVerification {
    let current = keys.withLock { $0 }
    return verifier.verify(token, keys: current, nowMs: nowMs)
  }
}
