import Logging
import OpenSSLCrypto
import SessionStorage
import SessionToken
import Synchronization

/// Every session call of the sidecar, on plain types. Verification (`verify`) is synchronous computation on
/// in-memory keys, made to run inline on an event loop; every call that needs the database is `async` and
/// reaches the store only through `SessionDatabase`, which runs it on the database's own threads.
public final class SessionService: Sendable {
  public static let maxUserIDBytes = 255
  public static let maxJSONBytes = 64 * 1024

  let config: SidecarConfig
  let database: SessionDatabase
  public let keyRing: SigningKeyRing
  public let revocations: RevocationSet
  let clock: any WallClock
  let logger: Logger
  let verifier: AccessTokenVerifier
  /// Tokens that verified; nil when `sidecar.verifyCache.maxEntries` is 0.
  public let verifiedTokens: VerifiedTokenCache?
  let rotation: RefreshTokenRotation
  let cookies: CookieFactory
  /// Database calls waiting or running now, across all connections (bounded by maxQueuedDatabaseCalls).
  private let databaseCalls = Atomic<Int>(0)
  /// Derives refresh tokens (RefreshToken.derive); from the key-encryption key, nil without one.
  let refreshTokenDerivationKey: [UInt8]?

  public init(
    config: SidecarConfig, database: SessionDatabase, keyRing: SigningKeyRing, revocations: RevocationSet,
    clock: any WallClock, logger: Logger, refreshTokenDerivationKey: [UInt8]? = nil
  ) {
    self.refreshTokenDerivationKey = refreshTokenDerivationKey
    self.config = config
    self.database = database
    self.keyRing = keyRing
    self.revocations = revocations
    self.clock = clock
    self.logger = logger
    self.verifier = AccessTokenVerifier(maxTokenBytes: config.sidecar.maxAccessTokenBytes)
    self.verifiedTokens =
      config.sidecar.verifyCacheMaxEntries > 0
      ? VerifiedTokenCache(
        maxEntries: config.sidecar.verifyCacheMaxEntries, maxBytes: config.sidecar.verifyCacheMaxBytes) : nil
    self.rotation = RefreshTokenRotation(gracePeriodMs: config.rotationGracePeriodMs)
    self.cookies = CookieFactory(
      domain: config.cookie.domain, secure: config.cookie.secure, renewTokenPath: config.refreshToken.renewTokenPath)
  }

  // MARK: Shared steps

  /// Runs `body` with the store on the database's threads, turning store errors into session errors.
  func withStore<R: Sendable>(_ body: @escaping @Sendable (any SessionStore) throws -> R) async throws(SessionError)
    -> R
  {
    let waiting = databaseCalls.add(1, ordering: .relaxed).newValue
    defer { databaseCalls.subtract(1, ordering: .relaxed) }
    guard waiting <= config.sidecar.maxQueuedDatabaseCalls else {
      throw .limitReached(.queuedDatabaseCalls(limit: config.sidecar.maxQueuedDatabaseCalls))
    }
    do {
      return try await database.run(body)
    } catch let error as SessionError {
      throw error
    } catch StoreError.unavailable(let message) {
      logger.error("database unavailable", metadata: ["reason": "\(message)"])
      throw .databaseUnavailable(message)
    } catch {
      logger.error("database call failed", metadata: ["reason": "\(error)"])
      throw .databaseFailed("\(error)")
    }
  }

  /// Signs an access token for `session` carrying `customClaimsJSON`.
  func signAccessToken(
    session: SessionRecord, customClaimsJSON: String, refreshTokenHash1: String, parentRefreshTokenHash1: String?,
    nowMs: Int64, expiresAt: Int64? = nil
  ) throws(SessionError) -> (IssuedToken, SessionView) {
    let useStatic = session.useStaticKey || !config.accessToken.dynamicSigningKey
    guard let key = keyRing.signingKey(useStaticKey: useStatic, at: nowMs) else {
      throw .noSigningKey
    }
    let issuedAt = nowMs / 1000
    let claims = AccessTokenClaims(
      subject: session.userID, expiresAt: expiresAt ?? issuedAt + Int64(config.accessToken.validitySeconds),
      issuedAt: issuedAt, sessionHandle: session.handle, refreshTokenHash1: refreshTokenHash1,
      parentRefreshTokenHash1: parentRefreshTokenHash1, antiCsrfToken: session.antiCsrfToken)
    let payload: String
    do {
      payload = try AccessTokenPayload.build(claims: claims, customJSON: customClaimsJSON)
    } catch {
      throw .invalidInput("access_token_payload_json: \(error)")
    }
    let token: String
    do {
      token = try AccessTokenSigner.sign(payloadJSON: payload, kid: key.kid, key: key.privateKey)
    } catch {
      throw .signingFailed("\(error)")
    }
    // A token this sidecar would refuse to verify must never be issued.
    guard token.utf8.count <= config.sidecar.maxAccessTokenBytes else {
      throw .invalidInput(
        "access_token_payload_json makes the access token \(token.utf8.count) bytes, over "
          + "sidecar.maxAccessTokenBytes (\(config.sidecar.maxAccessTokenBytes)); keep large data in session_data_json")
    }
    let expiresAtMs = claims.expiresAt * 1000
    return (
      IssuedToken(token: token, expiresAtMs: expiresAtMs),
      SessionView(
        handle: session.handle, userID: session.userID, accessTokenPayloadJSON: payload,
        accessTokenExpiresAtMs: expiresAtMs)
    )
  }

  static func validatedJSONObject(_ json: String, field: String) throws(SessionError) -> String {
    guard json.utf8.count <= maxJSONBytes else {
      throw .invalidInput("\(field) is larger than \(maxJSONBytes) bytes")
    }
    do {
      return try AccessTokenPayload.validateObject(json)
    } catch {
      throw .invalidInput("\(field): \(error)")
    }
  }

  static func requireHandle(_ handle: String) throws(SessionError) {
    guard !handle.isEmpty else { throw .invalidInput("session_handle is empty") }
    guard handle.utf8.count <= 64 else { throw .invalidInput("session_handle is longer than 64 bytes") }
  }

  static func requireUserID(_ userID: String) throws(SessionError) {
    guard !userID.isEmpty else { throw .invalidInput("user_id is empty") }
    guard userID.utf8.count <= maxUserIDBytes else {
      throw .invalidInput("user_id is longer than \(maxUserIDBytes) bytes")
    }
  }

  /// Until when a revocation made at `nowMs` is enforced, at least (the store extends it to the session's last
  /// access token's expiry).
  func revocationExpiry(nowMs: Int64) -> Int64 {
    nowMs + config.accessTokenValidityMs + SessionRecord.revocationMarginMs
  }
}
