import Logging
import ServiceLifecycle
import SessionCore

/// Sleeps until the cleanup schedule's next run, then runs it if this sidecar claims it.
struct CleanupScheduler: Service {
  let cleanup: ExpiredDataCleanup
  let clock: any WallClock
  let claimant: String
  let logger: Logger

  func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        guard let next = cleanup.nextRun(after: clock.nowMs()) else {
          logger.info("cleanup schedule never fires again; expired data will not be removed")
          return
        }
        do {
          // Sleep in slices so a long wait (days) stays responsive and tracks wall-clock changes.
          while clock.nowMs() < next {
            try await Task.sleep(for: .milliseconds(min(next - clock.nowMs(), 60_000)))
          }
        } catch {
          return
        }
        do {
          _ = try await cleanup.run(scheduledAtMs: next, nowMs: clock.nowMs(), claimant: claimant)
        } catch {
          logger.error("cleanup failed; it runs again at the next scheduled time", metadata: ["error": "\(error)"])
        }
      }
    }
  }
}
