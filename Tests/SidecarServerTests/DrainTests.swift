import Foundation
import Logging
import SessionCore
import SessionSidecarWire
import SessionStorage
import SidecarClient
import SidecarServer
import Synchronization
import TestSupport
import Testing

/// A store whose session inserts wait at a gate the test opens, so a CreateSession is reliably in flight.
final class GatedStore: SessionStore {
  let inner = InMemorySessionStore()
  private let gate = DispatchSemaphore(value: 0)
  private let entered = DispatchSemaphore(value: 0)

  /// Waits (off the cooperative pool) until an insert is waiting at the gate.
  func waitForInsert() async {
    await withCheckedContinuation { c in
      DispatchQueue.global().async {
        self.entered.wait()
        c.resume()
      }
    }
  }
  func open() { gate.signal() }

  func insertSession(_ session: SessionRecord) throws {
    entered.signal()
    gate.wait()
    try inner.insertSession(session)
  }
  func session(handle: String) throws -> SessionRecord? { try inner.session(handle: handle) }
  func liveSessionHandles(userID: String, nowMs: Int64) throws -> [String] {
    try inner.liveSessionHandles(userID: userID, nowMs: nowMs)
  }
  func updateSession<Result: Sendable>(
    handle: String, _ decide: (SessionRecord?, Int64?) throws -> (SessionChange, Result)
  ) throws -> Result { try inner.updateSession(handle: handle, decide) }
  func revokeSessions(handles: [String], nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    try inner.revokeSessions(handles: handles, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
  }
  func revokeSessions(userID: String, nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    try inner.revokeSessions(userID: userID, nowMs: nowMs, revocationExpiresAtMs: revocationExpiresAtMs)
  }
  func deleteExpiredSessions(nowMs: Int64, limit: Int) throws -> Int {
    try inner.deleteExpiredSessions(nowMs: nowMs, limit: limit)
  }
  func revocations(afterID: Int64, limit: Int) throws -> [RevocationRecord] {
    try inner.revocations(afterID: afterID, limit: limit)
  }
  func deleteExpiredRevocations(nowMs: Int64, limit: Int) throws -> Int {
    try inner.deleteExpiredRevocations(nowMs: nowMs, limit: limit)
  }
  func signingKeys() throws -> [SigningKeyRecord] { try inner.signingKeys() }
  func insertSigningKey(_ key: SigningKeyRecord) throws { try inner.insertSigningKey(key) }
  func deleteExpiredSigningKeys(nowMs: Int64) throws -> Int { try inner.deleteExpiredSigningKeys(nowMs: nowMs) }
  func claimJobRun(job: String, scheduledAtMs: Int64, claimant: String) throws -> Bool {
    try inner.claimJobRun(job: job, scheduledAtMs: scheduledAtMs, claimant: claimant)
  }
  func ping() throws { try inner.ping() }
  func expireSigningKey(kid: String, atMs: Int64) throws -> Bool { try inner.expireSigningKey(kid: kid, atMs: atMs) }
  func latestRevocationID() throws -> Int64 { try inner.latestRevocationID() }
  func sealSigningKey(kid: String, sealedPrivateKey: [UInt8]) throws -> Bool {
    try inner.sealSigningKey(kid: kid, sealedPrivateKey: sealedPrivateKey)
  }
  func close() { inner.close() }
}

@Suite("Shutdown drains: what was read is answered, then connections close")
struct DrainTests {
  @Test(.timeLimit(.minutes(3)))
  func aRequestInFlightAtShutdownIsAnsweredAndStreamsEndWithAStatus() async throws {
    let store = GatedStore()
    let socketPath = TestSidecar.socketPath()
    var config = TestSidecar.config(database: InMemoryTestStore(), socketPath: socketPath)
    config.sidecar.drainTimeoutSeconds = 30
    let database = try await SessionDatabase.open(requestThreads: 2) { store }
    var logger = Logger(label: "drain-test")
    logger.logLevel = .warning
    let sidecar = Sidecar(config: config, database: database, logger: logger)
    try await sidecar.prepare()
    let running = Task { try await sidecar.run(cleanup: nil, signals: []) }
    try await sidecar.waitUntilListening()

    let client = try await SidecarClient.connect(socketPath: socketPath)
    var keys = try await client.watchSigningKeys().makeAsyncIterator()
    #expect(try await keys.next()?.keys.isEmpty == false)
    let create = Task { try await client.createSession(userID: "in-flight") }
    await store.waitForInsert()

    // The shutdown starts while the create waits in the store; the stream ends with a final status at once.
    let stopping = Task { await sidecar.shutdown() }
    await #expect(throws: SidecarCallError.self) { _ = try await keys.next() }
    store.open()
    let created = try await create.value
    #expect(created.session.userID == "in-flight", "the request read before the shutdown was answered")
    await stopping.value
    try await running.value
    await client.awaitConnectionClose()
    #expect(!FileManager.default.fileExists(atPath: socketPath), "the socket file is removed once drained")
  }

  @Test(.timeLimit(.minutes(3)))
  func aSidecarThatFailsToStartFailsItsListeningPromise() async throws {
    let store = InMemorySessionStore()
    store.simulateOutage(.unavailable("down"))
    let database = try await SessionDatabase.open(requestThreads: 1) { store }
    let sidecar = Sidecar(
      config: TestSidecar.config(database: InMemoryTestStore(), socketPath: TestSidecar.socketPath()),
      database: database, logger: Logger(label: "failed-start"))
    await #expect(throws: StoreError.unavailable("down")) { try await sidecar.prepare() }
    await #expect(throws: StoreError.unavailable("down")) { try await sidecar.waitUntilListening() }
    await database.close()
  }

  /// The process as operators run it: SIGTERM while requests are being answered; every request it read is
  /// answered and it exits 0.
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason), .timeLimit(.minutes(2)))
  func sigtermWithRequestsInFlightAnswersThemAndExitsZero() async throws {
    try await TestDatabase.with { db in
      let socketPath = TestSidecar.socketPath()
      let config = try SidecarExecutable.writeConfig(
        """
        mysql: { host: \(db.server.host), port: \(db.server.port), user: \(db.server.user), password: "\(db.server.password)", database: \(db.name) }
        tokens: { refreshToken: { renewTokenPath: /refresh } }
        cookie: { domain: example.test }
        sidecar: { socketPath: \(socketPath), keyEncryptionKeyFile: \(SidecarExecutable.keyEncryptionKeyFile) }
        """)
      let (process, sidecar) = try await SidecarExecutable.serve(
        config: config, socketPath: socketPath, standardError: FileHandle.nullDevice)
      defer { if process.isRunning { process.terminate() } }

      // Forty requests in one write: the server reads them together. Once the first answer is back it is
      // working through what it has read; SIGTERM then.
      let count: UInt64 = 40
      var bytes: [UInt8] = []
      for id in 1...count {
        var request = WireRequest()
        request.id = id
        request.createSession.userID = "user-\(id)"
        bytes += Array(try request.framed().readableBytesView)
      }
      try await sidecar.sendRaw(bytes)
      let first = try await sidecar.awaitResponse(id: 1)
      kill(process.processIdentifier, SIGTERM)
      var answered = [first]
      for id in 2...count { answered.append(try await sidecar.awaitResponse(id: id)) }
      #expect(answered.allSatisfy { $0.status.code == .ok }, "every request read before SIGTERM was answered")
      #expect(Set(answered.map(\.createSession.session.userID)).count == Int(count))
      await sidecar.awaitConnectionClose()
      try await SidecarExecutable.waitForExit(process)
      #expect(process.terminationReason == .exit)
      #expect(process.terminationStatus == 0)
    }
  }
}
