import Foundation
import Logging
import SessionCore
import SessionStorage
import SessionToken

/// A logger that drops everything, so expected errors (outages, theft) do not flood the test output.
let quietLogger = Logger(label: "session-core-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// The keys `ConfigLoader` requires, with the values every test configuration starts from.
let requiredConfigKeys: [String: String] = [
  "mysql.user": "sidecar",
  "mysql.password": "secret",
  "mysql.database": "sessions",
  "tokens.refreshToken.renewTokenPath": "/auth/session/refresh",
  "cookie.domain": "example.com",
]

/// A validated configuration: the required keys plus `overrides`, loaded the way the sidecar loads it.
func testConfig(_ overrides: [String: String] = [:]) throws -> SidecarConfig {
  try ConfigLoader().load(file: requiredConfigKeys.merging(overrides) { $1 }, environment: [:])
}

/// One sidecar in memory: its configuration, clock, store, key ring and rotation, revocation set and service.
/// Several harnesses may share one store and one clock, as sidecars share one database and one wall clock.
struct SessionHarness {
  let config: SidecarConfig
  let clock: TestClock
  let store: InMemorySessionStore
  let database: SessionDatabase
  let ring: SigningKeyRing
  let rotation: SigningKeyRotation
  let service: SessionService

  /// Builds the sidecar and runs one key-rotation round, which creates the static and the current dynamic
  /// key on a fresh store (two RSA key generations) or loads the keys another harness made.
  init(
    _ overrides: [String: String] = [:], store: InMemorySessionStore = InMemorySessionStore(),
    clock: TestClock = TestClock()
  ) async throws {
    config = try testConfig(overrides)
    self.clock = clock
    self.store = store
    database = try await SessionDatabase.open(requestThreads: 2, backgroundThreads: 1) { store }
    ring = SigningKeyRing(
      policy: SigningKeyPolicy(config: config))
    rotation = SigningKeyRotation(
      database: database, ring: ring, sealer: PrivateKeySealer(), clock: clock, logger: quietLogger)
    try await rotation.synchronize()
    service = SessionService(
      config: config, database: database, keyRing: ring, revocations: RevocationSet(), clock: clock,
      logger: quietLogger)
  }

  /// A second sidecar on the same store and clock.
  func sibling(_ overrides: [String: String] = [:]) async throws -> SessionHarness {
    try await SessionHarness(overrides, store: store, clock: clock)
  }

  /// Creates a session and returns what was issued, failing the test when a token is missing.
  func create(
    userID: String = "user-1", payload: String = "", data: String = "", antiCsrf: Bool = false,
    staticKey: Bool = false
  ) async throws -> CreatedSession {
    let issued = try await service.createSession(
      CreateSessionInput(
        userID: userID, accessTokenPayloadJSON: payload, sessionDataJSON: data, enableAntiCsrf: antiCsrf,
        useStaticKey: staticKey))
    guard let access = issued.accessToken?.token, let refresh = issued.refreshToken?.token else {
      throw HarnessError("createSession issued no tokens")
    }
    return CreatedSession(issued: issued, accessToken: access, refreshToken: refresh)
  }

  /// Verifies without anti-CSRF or database checks.
  func verify(_ accessToken: String, antiCsrf: String = "", checkAntiCsrf: Bool = false) -> VerifyOutcome {
    service.verify(
      accessToken: accessToken, antiCsrfToken: antiCsrf, doAntiCsrfCheck: checkAntiCsrf, checkDatabase: false)
  }

  /// The kid a token names, as the key ring resolves it (nil when it does not verify).
  func kid(of accessToken: String) -> String? {
    switch AccessTokenVerifier().verify(accessToken, keys: ring, nowMs: clock.nowMs()) {
    case .valid(let token), .expired(let token): token.kid
    case .invalid, .unknownKey: nil
    }
  }
}

struct CreatedSession {
  let issued: IssuedSession
  let accessToken: String
  let refreshToken: String
  var handle: String { issued.session.handle }
}

struct HarnessError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The view of a verify that succeeded; nil otherwise.
func verifiedView(_ outcome: VerifyOutcome) -> SessionView? {
  if case .ok(let view, _) = outcome { return view }
  return nil
}

func isTryRefresh(_ outcome: VerifyOutcome) -> Bool {
  if case .tryRefreshToken = outcome { return true }
  return false
}

/// The issued session of a refresh that succeeded; nil otherwise.
func refreshed(_ outcome: RefreshOutcome) -> IssuedSession? {
  if case .ok(let issued) = outcome { return issued }
  return nil
}

/// The top-level members of a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
  let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
  guard let object = value as? [String: Any] else { throw HarnessError("not a JSON object: \(text)") }
  return object
}

/// `map` for async work, in order.
func asyncMap<T>(_ range: Range<Int>, _ transform: (Int) async throws -> T) async rethrows -> [T] {
  var results: [T] = []
  for index in range { results.append(try await transform(index)) }
  return results
}
