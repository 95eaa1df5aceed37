import CronSchedule
import Logging
import SessionStorage

/// Deletes what no longer matters — expired sessions, revocation-log entries whose tokens have all expired,
/// signing keys whose tokens have all expired — on the `removalCronjobInterval` schedule. With several
/// sidecars on one database, each scheduled run is claimed in the store, so exactly one of them does it.
public struct ExpiredDataCleanup: Sendable {
  public struct Report: Sendable, Equatable {
    public var sessions = 0
    public var revocations = 0
    public var signingKeys = 0
  }

  public let schedule: CronExpression
  let database: SessionDatabase
  let logger: Logger
  /// Rows per DELETE: small enough that no statement holds its locks for long.
  let batchSize: Int
  /// Batches per table per run, so that one run ends; the next run continues.
  let maxBatches: Int

  public init(
    schedule: CronExpression, database: SessionDatabase, logger: Logger, batchSize: Int = 1000, maxBatches: Int = 10_000
  ) {
    self.schedule = schedule
    self.database = database
    self.logger = logger
    self.batchSize = batchSize
    self.maxBatches = maxBatches
  }

  /// The run due after `nowMs`.
  public func nextRun(after nowMs: Int64) -> Int64? { schedule.nextFireTime(afterMs: nowMs) }

  /// Carries out the run scheduled at `scheduledAtMs` if this sidecar claims it; nil when another did. Runs on
  /// the database's background lane.
  public func run(scheduledAtMs: Int64, nowMs: Int64, claimant: String) async throws -> Report? {
    try await database.run(on: .background) { [self] store in
      try run(scheduledAtMs: scheduledAtMs, nowMs: nowMs, claimant: claimant, in: store)
    }
  }

  private func run(scheduledAtMs: Int64, nowMs: Int64, claimant: String, in store: any SessionStore) throws
    -> Report?
  {
    guard try store.claimJobRun(job: "cleanup", scheduledAtMs: scheduledAtMs, claimant: claimant) else {
      return nil
    }
    var report = Report()
    report.sessions = try drain { try store.deleteExpiredSessions(nowMs: nowMs, limit: batchSize) }
    report.revocations = try drain { try store.deleteExpiredRevocations(nowMs: nowMs, limit: batchSize) }
    report.signingKeys = try store.deleteExpiredSigningKeys(nowMs: nowMs)
    logger.info(
      "expired data removed",
      metadata: [
        "sessions": "\(report.sessions)", "revocations": "\(report.revocations)",
        "signingKeys": "\(report.signingKeys)",
      ])
    return report
  }

  private func drain(_ batch: () throws -> Int) throws -> Int {
    var total = 0
    for _ in 0..<maxBatches {
      let deleted = try batch()
      total += deleted
      if deleted < batchSize { break }
    }
    return total
  }
}
