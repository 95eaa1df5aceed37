import SessionCore
import SessionStorage
import Synchronization
import Testing

/// A revocation log whose rows become visible in an order the test decides, as commits do in MySQL: an id
/// assigned first may become visible after a higher one. Only the log is implemented; the set reads nothing else.
final class ScriptedRevocationLog: SessionStore {
  private let visible = Mutex<[RevocationRecord]>([])

  func commit(_ record: RevocationRecord) { visible.withLock { $0.append(record) } }

  func revocations(afterID: Int64, limit: Int) throws -> [RevocationRecord] {
    visible.withLock { rows in Array(rows.filter { $0.id > afterID }.sorted { $0.id < $1.id }.prefix(limit)) }
  }

  private func unused() -> StoreError { .failed("not part of the revocation log") }
  func insertSession(_ session: SessionRecord) throws { throw unused() }
  func session(handle: String) throws -> SessionRecord? { throw unused() }
  func liveSessionHandles(userID: String, nowMs: Int64) throws -> [String] { throw unused() }
  func updateSession<Result: Sendable>(
    handle: String, _ decide: (SessionRecord?, Int64?) throws -> (SessionChange, Result)
  ) throws -> Result { throw unused() }
  func revokeSessions(handles: [String], nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    throw unused()
  }
  func revokeSessions(userID: String, nowMs: Int64, revocationExpiresAtMs: Int64) throws -> [String] {
    throw unused()
  }
  func deleteExpiredSessions(nowMs: Int64, limit: Int) throws -> Int { throw unused() }
  func deleteExpiredRevocations(nowMs: Int64, limit: Int) throws -> Int { throw unused() }
  func signingKeys() throws -> [SigningKeyRecord] { throw unused() }
  func insertSigningKey(_ key: SigningKeyRecord) throws { throw unused() }
  func deleteExpiredSigningKeys(nowMs: Int64) throws -> Int { throw unused() }
  func claimJobRun(job: String, scheduledAtMs: Int64, claimant: String) throws -> Bool { throw unused() }
  func ping() throws { throw unused() }
  func expireSigningKey(kid: String, atMs: Int64) throws -> Bool { throw unused() }
  func latestRevocationID() throws -> Int64 { visible.withLock { $0.map(\.id).max() ?? 0 } }
  func sealSigningKey(kid: String, sealedPrivateKey: [UInt8]) throws -> Bool { throw unused() }
  func close() {}
}

@Suite("Revocation log read in commit order, not id order")
struct RevocationLogHoleTests {
  static let now: Int64 = 1_700_000_000_000

  static func entry(_ id: Int64) -> RevocationRecord {
    RevocationRecord(id: id, sessionHandle: "handle-\(id)", revokedAtMs: now, expiresAtMs: now + 3_600_000)
  }

  @Test func aLowerIdCommittedLongAfterAHigherOneIsStillEnforced() throws {
    let log = ScriptedRevocationLog()
    let set = RevocationSet(holeLifetimeMs: 120_000)
    // Ids 1…500 belong to a mass revoke still committing; 501 commits first.
    log.commit(Self.entry(501))
    #expect(try set.synchronize(from: log, nowMs: Self.now) == 1)
    #expect(set.contains("handle-501"))
    for id in Int64(1)...500 { log.commit(Self.entry(id)) }
    try set.synchronize(from: log, nowMs: Self.now + 5_000)
    #expect((1...500).allSatisfy { set.contains("handle-\($0)") })
  }

  @Test func aHoleThatNeverFillsIsGivenUpAfterItsLifetime() throws {
    let log = ScriptedRevocationLog()
    let set = RevocationSet(holeLifetimeMs: 10_000)
    log.commit(Self.entry(1))
    log.commit(Self.entry(3))  // 2 never commits (a rolled-back insert, or an auto-increment step)
    try set.synchronize(from: log, nowMs: Self.now)
    // While the hole is open the log is read again from it; once given up, only new entries are read.
    #expect(try set.synchronize(from: log, nowMs: Self.now + 1_000) == 1)
    #expect(try set.synchronize(from: log, nowMs: Self.now + 20_000) == 0)
    log.commit(Self.entry(2))
    #expect(try set.synchronize(from: log, nowMs: Self.now + 21_000) == 0)
    #expect(!set.contains("handle-2"))
  }
}

@Suite("A revocation log that starts over")
struct RevocationLogRestartTests {
  static func session(_ handle: String) -> SessionRecord {
    SessionRecord(
      handle: handle, userID: "u", refreshTokenHash2: "h", tokenFamilyKey: [1], sessionDataJSON: "{}",
      accessTokenPayloadJSON: "{}", antiCsrfToken: nil, useStaticKey: false, createdAtMs: 0, expiresAtMs: .max)
  }

  /// After a TRUNCATE (or a re-created table) ids start again from 1: a reader that only asks for ids above the
  /// last it saw would never see a revocation again. It notices the ids went backwards and reads from the start.
  @Test func aTruncatedLogIsReadAgainFromTheStart() throws {
    let store = InMemorySessionStore()
    let set = RevocationSet()
    let now: Int64 = 1_700_000_000_000
    for handle in ["a", "b", "c"] { try store.insertSession(Self.session(handle)) }
    _ = try store.revokeSessions(handles: ["a", "b"], nowMs: now, revocationExpiresAtMs: now + 60_000)
    #expect(try set.synchronize(from: store, nowMs: now) == 2)
    store.truncateRevocations()
    _ = try store.revokeSessions(handles: ["c"], nowMs: now, revocationExpiresAtMs: now + 60_000)
    #expect(try set.synchronize(from: store, nowMs: now + 1) == 1)
    #expect(set.contains("c"), "the revocation logged after the truncate is enforced")
  }

  @Test func revocationsMadeHereSurviveASyncThatDoesNotSeeThemYet() throws {
    let store = InMemorySessionStore()
    let set = RevocationSet()
    let now: Int64 = 1_700_000_000_000
    set.insert(["local"], expiresAtMs: now + 60_000)
    try set.synchronize(from: store, nowMs: now)
    #expect(set.contains("local"))
    try set.synchronize(from: store, nowMs: now + 120_000)
    #expect(!set.contains("local"), "dropped once its tokens have expired")
  }
}
