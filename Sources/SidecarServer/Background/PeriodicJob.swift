import Logging
import ServiceLifecycle

/// Runs a round of work every `intervalMs` until graceful shutdown. A failed round is logged and retried on
/// the next tick: a database that goes away is waited out, not fatal. The work reaches the database through
/// `SessionDatabase`, which runs it on threads of its own.
struct PeriodicJob: Service {
  let name: String
  let intervalMs: Int64
  let logger: Logger
  let work: @Sendable () async throws -> Void

  func run() async throws {
    await cancelWhenGracefulShutdown {
      var lastFailure: String? = nil
      while !Task.isCancelled {
        do {
          try await work()
          lastFailure = nil
        } catch {
          // Logged once per distinct failure, so an outage is one line, not one per tick.
          let description = "\(error)"
          if description != lastFailure {
            logger.warning("\(name) round failed; retrying every tick", metadata: ["error": "\(description)"])
            lastFailure = description
          }
        }
        do {
          try await Task.sleep(for: .milliseconds(intervalMs))
        } catch {
          return
        }
      }
    }
  }
}
