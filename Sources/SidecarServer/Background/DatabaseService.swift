import ServiceLifecycle
import SessionStorage

/// Keeps the database open while the sidecar runs and closes it (threads, then connections) when the
/// service group stops it. It is the first service, so it stops last: after the socket server has drained.
struct DatabaseService: Service {
  let database: SessionDatabase

  func run() async throws {
    try? await gracefulShutdown()
    await database.close()
  }
}
