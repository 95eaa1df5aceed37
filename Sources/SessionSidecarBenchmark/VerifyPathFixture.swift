import Logging
import SessionCore
import SessionStorage
import SessionToken

extension SidecarConfig {
  /// The smallest valid configuration; the MySQL settings are required but never used (the store is in memory).
  static func benchmark(socketPath: String? = nil) -> SidecarConfig {
    var config = SidecarConfig()
    config.mysql.user = "benchmark"
    config.mysql.password = "unused"
    config.mysql.database = "benchmark"
    config.refreshToken.renewTokenPath = "/auth/session/refresh"
    config.cookie.domain = "example.test"
    if let socketPath { config.sidecar.socketPath = socketPath }
    return config
  }
}

/// A `SessionService` on the in-memory store, composed as `Sidecar` composes it, with one session created:
/// rows 2–4 all check that session's access token.
struct VerifyPathFixture {
  /// App claims of a typical size, so the payload is parsed and copied as in production.
  static let customClaims = #"{"role":"member","tenant":"acme","scopes":["read","write"]}"#

  let service: SessionService
  let keyRing: SigningKeyRing
  let accessToken: String

  init(logger: Logger) async throws {
    let config = SidecarConfig.benchmark()
    let store = try await SessionDatabase.open(requestThreads: 1) { InMemorySessionStore() }
    let clock = SystemClock()
    let keyRing = SigningKeyRing(
      policy: SigningKeyPolicy(config: config))
    try await SigningKeyRotation(
      database: store, ring: keyRing, sealer: PrivateKeySealer(), clock: clock, logger: logger
    ).synchronize()
    service = SessionService(
      config: config, database: store, keyRing: keyRing, revocations: RevocationSet(), clock: clock, logger: logger)
    let issued = try await service.createSession(
      CreateSessionInput(userID: "user-42", accessTokenPayloadJSON: Self.customClaims))
    guard let token = issued.accessToken?.token else { throw BenchmarkError.setupFailed("no access token issued") }
    self.keyRing = keyRing
    self.accessToken = token
  }
}

/// The ring's lookup without its lock and snapshot: a plain array searched by kid, so that row 3 measures the
/// token verifier alone.
struct FixedKeyLookup: VerificationKeyLookup {
  let keys: [VerificationKey]

  func verificationKey(kid: Substring) -> VerificationKey? {
    for key in keys where key.kid == kid { return key }
    return nil
  }
}
