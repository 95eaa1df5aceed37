import NIOPosix
import Synchronization

/// The only door to a `SessionStore`: its methods block on the database, so they are reached only inside
/// `read`/`write`-style closures that this type runs on threads of its own, behind `async` methods. A caller
/// on an event loop or on Swift's cooperative pool cannot block it by mistake (as GRDB's `DatabaseQueue`
/// owns where SQLite runs). Two lanes, each with its own threads, so a backlog of client calls never delays
/// the background rounds (keys, revocations, cleanup) that keep every sidecar correct.
public final class SessionDatabase: Sendable {
  public enum Lane: Sendable {
    /// Client calls (create, refresh, revoke, ...).
    case requests
    /// Key rotation, revocation sync, cleanup.
    case background
  }

  private let store: any SessionStore
  private let requestThreads: NIOThreadPool
  private let backgroundThreads: NIOThreadPool
  private let closed = Mutex(false)

  private init(store: any SessionStore, requestThreads: NIOThreadPool, backgroundThreads: NIOThreadPool) {
    self.store = store
    self.requestThreads = requestThreads
    self.backgroundThreads = backgroundThreads
  }

  /// Opens a store by running `connect` (which may block: connecting, migrating) on the database's own
  /// threads. `requestThreads` bounds how many client calls wait on the database at once.
  public static func open(
    requestThreads: Int, backgroundThreads: Int = 2, _ connect: @escaping @Sendable () throws -> any SessionStore
  ) async throws -> SessionDatabase {
    let requests = NIOThreadPool(numberOfThreads: max(requestThreads, 1))
    let background = NIOThreadPool(numberOfThreads: max(backgroundThreads, 1))
    requests.start()
    background.start()
    do {
      let store = try await background.runIfActive(connect)
      return SessionDatabase(store: store, requestThreads: requests, backgroundThreads: background)
    } catch {
      try? await requests.shutdownGracefully()
      try? await background.shutdownGracefully()
      throw error
    }
  }

  /// Runs `body` with the store on the lane's threads and returns its result. Throws `StoreError.unavailable`
  /// once the database is closed.
  public func run<Result: Sendable>(
    on lane: Lane = .requests, _ body: @escaping @Sendable (any SessionStore) throws -> Result
  ) async throws -> Result {
    let store = self.store
    guard !closed.withLock({ $0 }) else { throw StoreError.unavailable("the sidecar is shutting down") }
    do {
      return try await pool(lane).runIfActive { try body(store) }
    } catch is NIOThreadPoolError.ThreadPoolInactive {
      throw StoreError.unavailable("the sidecar is shutting down")
    } catch is CancellationError where closed.withLock({ $0 }) {
      // Work still queued when the threads stop is cancelled by the pool.
      throw StoreError.unavailable("the sidecar is shutting down")
    }
  }

  deinit {
    // Threads must be stopped before their pool goes; `close()` has usually done it already.
    requestThreads.shutdownGracefully { _ in }
    backgroundThreads.shutdownGracefully { _ in }
  }

  /// Finishes the work already submitted, stops the threads, then closes the store's connections.
  public func close() async {
    closed.withLock { $0 = true }
    try? await requestThreads.shutdownGracefully()
    let store = self.store
    try? await backgroundThreads.runIfActive { store.close() }
    try? await backgroundThreads.shutdownGracefully()
  }

  /// The store's connection pool now (non-blocking: a lock, no I/O).
  public var poolStatistics: PoolStatistics { store.poolStatistics }

  private func pool(_ lane: Lane) -> NIOThreadPool {
    switch lane {
    case .requests: requestThreads
    case .background: backgroundThreads
    }
  }
}
