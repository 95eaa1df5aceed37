import Foundation
import Logging
import NIOCore
import SessionCore
import SessionSidecarWire
import SessionStorage
import SidecarClient
import SidecarServer
import TestSupport
import Testing

/// Where the sidecars of a test keep their data: a real MariaDB database (`TestDatabase`) or one in-memory store
/// they all share (`InMemoryTestStore`), for socket-level tests that need no SQL and so run with no MariaDB.
protocol TestStoreProvider: Sendable {
  /// A database for one sidecar; sidecars of one test share the data behind it.
  func makeDatabase() async throws -> SessionDatabase
  /// The MySQL settings the sidecar's configuration names (placeholders for the in-memory store).
  func apply(to config: inout SidecarConfig)
}

extension TestDatabase: TestStoreProvider {
  func makeDatabase() async throws -> SessionDatabase { try await open() }

  func apply(to config: inout SidecarConfig) {
    config.mysql.host = server.host
    config.mysql.port = server.port
    config.mysql.user = server.user
    config.mysql.password = server.password
    config.mysql.database = name
  }
}

/// One in-memory store shared by every sidecar of a test.
struct InMemoryTestStore: TestStoreProvider {
  let store = InMemorySessionStore()

  static func with(_ body: (InMemoryTestStore) async throws -> Void) async throws {
    try await body(InMemoryTestStore())
  }

  func makeDatabase() async throws -> SessionDatabase {
    try await SessionDatabase.open(requestThreads: 4) { [store] in store }
  }

  func apply(to config: inout SidecarConfig) {
    config.mysql.user = "in-memory"
    config.mysql.database = "in-memory"
  }
}

/// A sidecar running in this process on a socket of its own, against a real MariaDB database.
struct TestSidecar: Sendable {
  let sidecar: Sidecar
  let socketPath: String
  let clock: TestClock

  static func config(
    database: some TestStoreProvider, socketPath: String, _ adjust: (inout SidecarConfig) -> Void = { _ in }
  ) -> SidecarConfig {
    var config = SidecarConfig()
    database.apply(to: &config)
    config.mysql.connectionLimit = 8
    config.refreshToken.renewTokenPath = "/auth/session/refresh"
    config.cookie.domain = "example.test"
    config.sidecar.socketPath = socketPath
    adjust(&config)
    return config
  }

  static func socketPath() -> String {
    "/tmp/sidecar-test-\(UInt32.random(in: 0...UInt32.max)).sock"
  }

  func connect() async throws -> SidecarClient {
    // A generous timeout: tests assert behaviour, not speed, and CI machines are busy.
    try await SidecarClient.connect(socketPath: socketPath, defaultTimeout: .seconds(120))
  }
}

/// The socket-level test harness: starts `count` sidecars sharing `store` (a database of one test, or one in-memory
/// store for tests that need no SQL), each with a store of its own as separate processes would have, runs `body`,
/// then stops them as SIGTERM does.
func withTestSidecar(
  _ count: Int = 1, store: some TestStoreProvider, clock: TestClock = TestClock(nowMs: SystemClock().nowMs()),
  keyPolicy: SigningKeyPolicy? = nil, sealer: PrivateKeySealer = PrivateKeySealer(),
  adjust: @escaping (inout SidecarConfig) -> Void = { _ in },
  _ body: ([TestSidecar]) async throws -> Void
) async throws {
  var sidecars: [TestSidecar] = []
  for _ in 0..<count {
    let path = TestSidecar.socketPath()
    let config = TestSidecar.config(database: store, socketPath: path, adjust)
    var logger = Logger(label: "test-sidecar")
    logger.logLevel = .warning
    let sidecar = Sidecar(
      config: config, database: try await store.makeDatabase(), clock: clock, logger: logger,
      keyPolicy: keyPolicy, sealer: sealer)
    try await sidecar.prepare()
    sidecars.append(TestSidecar(sidecar: sidecar, socketPath: path, clock: clock))
  }
  try await withThrowingTaskGroup(of: Void.self) { group in
    for s in sidecars {
      group.addTask { try await s.sidecar.run(cleanup: nil, signals: []) }
      try await s.sidecar.waitUntilListening()
    }
    // Stopped as SIGTERM stops them: drained, then the database closed.
    do {
      try await body(sidecars)
    } catch {
      for s in sidecars { await s.sidecar.shutdown() }
      throw error
    }
    for s in sidecars { await s.sidecar.shutdown() }
  }
}

/// Builders for requests, so tests read like the calls they make.
enum Call {
  static func create(
    user: String, payload: String = "", data: String = "", antiCsrf: Bool = false, staticKey: Bool = false
  ) -> WireRequest {
    var r = WireRequest()
    r.createSession.userID = user
    r.createSession.accessTokenPayloadJson = payload
    r.createSession.sessionDataJson = data
    r.createSession.enableAntiCsrf = antiCsrf
    r.createSession.useStaticKey = staticKey
    return r
  }

  static func verify(_ token: String, antiCsrf: String = "", check: Bool = false, checkDatabase: Bool = false)
    -> WireRequest
  {
    var r = WireRequest()
    r.verifySession.accessToken = token
    r.verifySession.antiCsrfToken = antiCsrf
    r.verifySession.doAntiCsrfCheck = check
    r.verifySession.checkDatabase = checkDatabase
    return r
  }

  static func refresh(_ token: String, antiCsrf: String = "") -> WireRequest {
    var r = WireRequest()
    r.refreshSession.refreshToken = token
    r.refreshSession.antiCsrfToken = antiCsrf
    return r
  }

  static func revoke(handles: [String]) -> WireRequest {
    var r = WireRequest()
    r.revokeSessions.sessionHandles.handles = handles
    return r
  }

  static func revoke(user: String) -> WireRequest {
    var r = WireRequest()
    r.revokeSessions.userID = user
    return r
  }

  static var signingKeys: WireRequest {
    var r = WireRequest()
    r.getSigningKeys = .init()
    return r
  }

  static var health: WireRequest {
    var r = WireRequest()
    r.health = .init()
    return r
  }
}

/// Decodes a JWT segment for assertions (tests only; the product never parses JSON with Foundation on verify).
func jwtPart(_ token: String, _ index: Int) throws -> [String: Any] {
  let segment = String(token.split(separator: ".")[index])
  var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
  while base64.count % 4 != 0 { base64 += "=" }
  let data = try #require(Data(base64Encoded: base64))
  return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}
