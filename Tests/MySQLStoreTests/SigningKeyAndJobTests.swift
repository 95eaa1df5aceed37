import SessionStorage
import TestSupport
import Testing

@testable import MySQLStore

@Suite("Signing keys and job claims")
struct SigningKeyAndJobTests {

  @Test(
    "claimJobRun is true for exactly one of many concurrent claimants",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func claimJobRunOnce() async throws {
    try await TestDatabase.with { database in
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

  @Test(
    "claims older than the retention are pruned by the next claim of that job",
    .enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func oldClaimsArePruned() async throws {
    try await TestDatabase.with { database in
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
