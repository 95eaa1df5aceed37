import Logging
import NIOPosix
import ServiceLifecycle

/// Runs blocking work on the thread pool every `intervalMs` until graceful shutdown. A failed round is
/// logged and retried on the next tick: a database that goes away is waited out, not fatal.
struct PeriodicJob: Service {
  let name: String
  let intervalMs: Int64
  let threadPool: NIOThreadPool
  let logger: Logger
  let work: @Sendable () throws -> Void

  func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        do {
          try await threadPool.runIfActive { try work() }
        } catch {
          logger.debug("\(name) round failed", metadata: ["error": "\(error)"])
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
