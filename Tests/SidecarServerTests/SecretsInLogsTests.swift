import Foundation
import Logging
import OpenSSLCrypto
import SessionCore
import SessionStorage
import SidecarClient
import SidecarServer
import Synchronization
import Testing

/// Every log line of a whole lifecycle, at trace level, kept for inspection.
final class CapturedLogs: Sendable {
  let lines = Mutex<[String]>([])

  func handler(label: String) -> any LogHandler { Capture(label: label, logs: self) }

  struct Capture: LogHandler {
    let label: String
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
      let all = metadata.merging(event.metadata ?? [:]) { $1 }
      logs.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
    }
  }
}

@Suite("No secret in the logs")
struct SecretsInLogsTests {
  @Test func aWholeLifecycleAtTraceLevelLogsNoTokenHashKeyOrAntiCsrfToken() async throws {
    let logs = CapturedLogs()
    let logger = Logger(label: "secrets-test", factory: logs.handler)
    let kek = SecureRandom.bytes(32)
    let store = InMemorySessionStore()
    let database = try await SessionDatabase.open(requestThreads: 2) { store }
    let socketPath = TestSidecar.socketPath()
    let sidecar = Sidecar(
      config: TestSidecar.config(database: InMemoryTestStore(), socketPath: socketPath), database: database,
      logger: logger, sealer: try PrivateKeySealer(keyEncryptionKey: kek))
    try await sidecar.prepare()
    let running = Task { try await sidecar.run(cleanup: nil, signals: []) }
    try await sidecar.waitUntilListening()

    let client = try await SidecarClient.connect(socketPath: socketPath, defaultTimeout: .seconds(120))
    let created = try await client.createSession(
      userID: "secret-user", accessTokenPayloadJSON: #"{"role":"x"}"#, enableAntiCsrf: true)
    let refreshed = try await client.refreshSession(
      refreshToken: created.refreshToken.token, antiCsrfToken: created.antiCsrfToken)
    _ = try await client.refreshSession(refreshToken: created.refreshToken.token, antiCsrfToken: created.antiCsrfToken)
    _ = try await client.verifySession(accessToken: refreshed.accessToken.token)
    _ = try await client.verifySession(accessToken: refreshed.accessToken.token + "x")
    _ = try await client.regenerateAccessToken(
      accessToken: refreshed.accessToken.token, accessTokenPayloadJSON: #"{"role":"y"}"#)
    _ = try await client.revokeSessions(handles: [created.session.handle])
    // Theft: the first token, long after it was replaced, on a session now revoked.
    _ = try await client.refreshSession(refreshToken: created.refreshToken.token)
    await client.close()
    let storedKeys = try store.signingKeys().map { String(decoding: $0.privateKey, as: UTF8.self) }
    await sidecar.shutdown()
    try await running.value

    let refreshTokens = [created.refreshToken.token, refreshed.refreshToken.token]
    let hash1s = refreshTokens.map { RefreshToken(parsing: $0)!.hash1 }
    var secrets: [String] = [created.accessToken.token, refreshed.accessToken.token, created.antiCsrfToken]
    secrets += refreshTokens + hash1s + hash1s.map(RefreshToken.hash2(ofHash1:))
    secrets += refreshTokens.map { String($0.split(separator: ".")[1]) }  // the secret part alone
    secrets += [Hex.encode(kek), Data(kek).base64EncodedString()]
    secrets += storedKeys
    let lines = logs.lines.withLock { $0 }
    #expect(lines.count > 10, "the lifecycle was logged")
    for secret in secrets {
      #expect(!lines.contains { $0.contains(secret) }, "a secret appeared in the logs")
    }
  }
}
