import SessionStorage
import Testing

@testable import MySQLStore

@Suite("Signing keys and job claims")
struct SigningKeyAndJobTests {
  @Test("signing keys: insert, one key per slot and kid, oldest slot first, expired ones deleted")
  func signingKeys() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      let dynamicLate = TestRecords.key("d-3000", slotStartMs: 3_000, expiresAtMs: 50_000)
      let staticKey = TestRecords.key("s-1", kind: .static, slotStartMs: 0, expiresAtMs: .max)
      let dynamicEarly = TestRecords.key("d-1000", slotStartMs: 1_000, expiresAtMs: 5_000)
      for key in [dynamicLate, staticKey, dynamicEarly] { try store.insertSigningKey(key) }
      #expect(try store.signingKeys() == [staticKey, dynamicEarly, dynamicLate])

      #expect {
        try store.insertSigningKey(TestRecords.key("d-other", slotStartMs: 1_000))
      } throws: { error in
        guard case StoreError.duplicate = error else { return false }
        return true
      }
      #expect {
        try store.insertSigningKey(TestRecords.key("d-1000", slotStartMs: 9_000))
      } throws: { error in
        guard case StoreError.duplicate = error else { return false }
        return true
      }

      #expect(try store.deleteExpiredSigningKeys(nowMs: 10_000) == 1)
      #expect(try store.signingKeys() == [staticKey, dynamicLate])
      #expect(try store.deleteExpiredSigningKeys(nowMs: 10_000) == 0)
    }
  }

  @Test("claimJobRun is true for exactly one of many concurrent claimants")
  func claimJobRunOnce() throws {
    try TestDatabase.with { database in
      let stores = [try database.connect(connectionLimit: 2), try database.connect(connectionLimit: 2)]
      for round in 0..<5 {
        let winners = Failures()
        runOnThreads(6) { index in
          do {
            if try stores[index % 2].claimJobRun(
              job: "cleanup", scheduledAtMs: Int64(round), claimant: "sidecar-\(index)")
            {
              winners.append("sidecar-\(index)")
            }
          } catch {
            winners.append("error: \(error)")
          }
        }
        #expect(winners.all.count == 1)
        #expect(winners.all.allSatisfy { $0.hasPrefix("sidecar-") })
      }
      #expect(try stores[0].claimJobRun(job: "other-job", scheduledAtMs: 0, claimant: "x"))
      #expect(try !stores[1].claimJobRun(job: "other-job", scheduledAtMs: 0, claimant: "y"))
    }
  }

  @Test("claims older than the retention are pruned by the next claim of that job")
  func oldClaimsArePruned() throws {
    try TestDatabase.with { database in
      let store = try database.connect()
      let later = MySQLSessionStore.jobRunRetentionMs + 10
      #expect(try store.claimJobRun(job: "j", scheduledAtMs: 1, claimant: "a"))
      #expect(try store.claimJobRun(job: "k", scheduledAtMs: 1, claimant: "a"))
      #expect(try store.claimJobRun(job: "j", scheduledAtMs: later, claimant: "a"))
      let rows = try database.select("SELECT job, scheduled_at_ms FROM refresh_token_job_run ORDER BY job")
        .map { "\(try $0.string(0))@\(try $0.int(1))" }
      #expect(rows == ["j@\(later)", "k@1"])
    }
  }
}
