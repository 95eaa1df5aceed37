import CronSchedule
import SessionCore
import SessionStorage
import Testing

@Suite("ExpiredDataCleanup")
struct ExpiredDataCleanupTests {
  let now: Int64 = 1_700_000_000_000
  let store = InMemorySessionStore()

  private func cleanup(batchSize: Int = 3, maxBatches: Int = 10_000) async throws -> ExpiredDataCleanup {
    ExpiredDataCleanup(
      schedule: try CronExpression(parsing: "0 0 0 1-31/7 * *"),
      database: try await SessionDatabase.open(requestThreads: 1) { [store] in store }, logger: quietLogger,
      batchSize: batchSize, maxBatches: maxBatches)
  }

  @discardableResult
  private func addSession(expiresAtMs: Int64, userID: String = "u") throws -> String {
    let handle = RandomIdentifier.uuid()
    try store.insertSession(
      SessionRecord(
        handle: handle, userID: userID, refreshTokenHash2: "h2", tokenFamilyKey: [1], sessionDataJSON: "{}",
        accessTokenPayloadJSON: "{}", antiCsrfToken: nil, useStaticKey: false, createdAtMs: now - 10_000,
        expiresAtMs: expiresAtMs))
    return handle
  }

  private func addKey(slot: Int64, expiresAtMs: Int64) throws {
    try store.insertSigningKey(
      SigningKeyRecord(
        kid: "d-\(slot)", kind: .dynamic, algorithm: "RS256", slotStartMs: slot, privateKey: [0], sealed: false,
        publicKeyPEM: "", createdAtMs: slot, expiresAtMs: expiresAtMs))
  }

  @Test func eachScheduledRunIsClaimedOnce() async throws {
    let job = try await cleanup()
    let scheduled = try #require(job.nextRun(after: now))
    let first = try #require(try await job.run(scheduledAtMs: scheduled, nowMs: scheduled, claimant: "a"))
    #expect(first.sessions == 0 && first.revocations == 0 && first.signingKeys == 0)
    #expect(try await job.run(scheduledAtMs: scheduled, nowMs: scheduled + 5, claimant: "b") == nil)
    #expect(try await job.run(scheduledAtMs: scheduled, nowMs: scheduled + 5, claimant: "a") == nil)
    let following = try #require(job.nextRun(after: scheduled))
    #expect(following > scheduled)
    #expect(try await job.run(scheduledAtMs: following, nowMs: following, claimant: "b") != nil)
  }

  @Test func scheduleFollowsTheCronExpression() async throws {
    let job = try await cleanup()
    // Days 1, 8, 15, 22 and 29 of each month at midnight UTC.
    let day: Int64 = 86_400_000
    #expect(job.nextRun(after: 0) == 7 * day)
    #expect(job.nextRun(after: 7 * day) == 14 * day)
    #expect(job.nextRun(after: 28 * day) == 31 * day)
  }

  @Test func expiredSessionsAreDeletedInBatchesAndLiveOnesKept() async throws {
    for _ in 0..<10 { try addSession(expiresAtMs: now - 1) }
    let live = try (0..<4).map { _ in try addSession(expiresAtMs: now + 1) }.sorted()
    let report = try #require(try await cleanup(batchSize: 3).run(scheduledAtMs: now, nowMs: now, claimant: "a"))
    #expect(report.sessions == 10)
    #expect(try store.liveSessionHandles(userID: "u", nowMs: now) == live)
    #expect(try store.revokeSessions(userID: "u", nowMs: now, revocationExpiresAtMs: now).sorted() == live)
  }

  @Test func batchLimitEndsARunAndTheNextRunContinues() async throws {
    for _ in 0..<10 { try addSession(expiresAtMs: now - 1) }
    let job = try await cleanup(batchSize: 3, maxBatches: 2)
    #expect(try await job.run(scheduledAtMs: now, nowMs: now, claimant: "a")?.sessions == 6)
    #expect(try await job.run(scheduledAtMs: now + 1, nowMs: now + 1, claimant: "a")?.sessions == 4)
    #expect(try await job.run(scheduledAtMs: now + 2, nowMs: now + 2, claimant: "a")?.sessions == 0)
  }

  @Test func expiredRevocationsAreDeleted() async throws {
    let old = try (0..<7).map { _ in try addSession(expiresAtMs: now + 1) }
    let recent = try (0..<2).map { _ in try addSession(expiresAtMs: now + 1) }
    _ = try store.revokeSessions(handles: old, nowMs: now - 100, revocationExpiresAtMs: now - 1)
    _ = try store.revokeSessions(handles: recent, nowMs: now - 100, revocationExpiresAtMs: now + 60_000)
    let report = try #require(try await cleanup(batchSize: 3).run(scheduledAtMs: now, nowMs: now, claimant: "a"))
    #expect(report.revocations == 7)
    #expect(try store.revocations(afterID: 0, limit: 100).map(\.sessionHandle) == recent)
  }

  @Test func expiredSigningKeysAreDeleted() async throws {
    try addKey(slot: 1000, expiresAtMs: now - 10)
    try addKey(slot: 2000, expiresAtMs: now - 1)
    try addKey(slot: 3000, expiresAtMs: now + 1)
    let report = try #require(try await cleanup().run(scheduledAtMs: now, nowMs: now, claimant: "a"))
    #expect(report.signingKeys == 2)
    #expect(try store.signingKeys().map(\.slotStartMs) == [3000])
  }

  @Test func expiredKeysOfARealRotationAreDeletedButTheStaticKeyStays() async throws {
    let h = try await SessionHarness(store: store, clock: TestClock(nowMs: now))
    let dynamic = try #require(h.ring.signingKey(useStaticKey: false, at: now))
    let report = try #require(
      try await cleanup().run(scheduledAtMs: dynamic.expiresAtMs + 1, nowMs: dynamic.expiresAtMs + 1, claimant: "a"))
    #expect(report.signingKeys == 1)
    #expect(try store.signingKeys().map(\.kind) == [.static])
  }
}
