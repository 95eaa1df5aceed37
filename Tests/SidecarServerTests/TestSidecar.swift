import Foundation
import Logging
import NIOCore
import SessionCore
import SessionStorage
import SidecarClient
import SidecarProtocol
import SidecarServer
import Testing

/// A sidecar running in this process on a socket of its own, against a real MariaDB database.
struct TestSidecar: Sendable {
  let sidecar: Sidecar
  let socketPath: String
  let clock: TestClock

  static func config(
    database: TestDatabase, socketPath: String, _ adjust: (inout SidecarConfig) -> Void = { _ in }
  ) -> SidecarConfig {
    var config = SidecarConfig()
    config.mysql.host = database.server.host
    config.mysql.port = database.server.port
    config.mysql.user = database.server.user
    config.mysql.password = database.server.password
    config.mysql.database = database.name
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

  /// Starts sidecars sharing `database` (one store each, as separate processes would have), runs `body`, stops them.
  static func withSidecars(
    _ count: Int = 1, database: TestDatabase, clock: TestClock = TestClock(nowMs: SystemClock().nowMs()),
    keyPolicy: SigningKeyPolicy? = nil, sealer: PrivateKeySealer = PrivateKeySealer(),
    adjust: @escaping (inout SidecarConfig) -> Void = { _ in },
    _ body: ([TestSidecar]) async throws -> Void
  ) async throws {
    var sidecars: [TestSidecar] = []
    for _ in 0..<count {
      let path = socketPath()
      let config = Self.config(database: database, socketPath: path, adjust)
      var logger = Logger(label: "test-sidecar")
      logger.logLevel = .warning
      let sidecar = Sidecar(
        config: config, store: try database.connectStore(), clock: clock, logger: logger, keyPolicy: keyPolicy,
        sealer: sealer)
      try await sidecar.prepare()
      sidecars.append(TestSidecar(sidecar: sidecar, socketPath: path, clock: clock))
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for s in sidecars {
        group.addTask { try await s.sidecar.run(cleanup: nil, signals: []) }
        try await s.sidecar.waitUntilListening()
      }
      do {
        try await body(sidecars)
      } catch {
        group.cancelAll()
        throw error
      }
      group.cancelAll()
    }
  }

  func connect() async throws -> SidecarClient {
    try await SidecarClient.connect(socketPath: socketPath)
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
