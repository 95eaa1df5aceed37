import ArgumentParser
import SidecarClient

/// A probe: exit 0 when the sidecar serves (liveness); with `--ready`, only when it also reaches its database.
struct HealthCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "health",
    abstract: "Asks a running sidecar whether it serves; exit 0 when it does, 1 with a one-line reason otherwise.",
    discussion: """
      Usable as a Kubernetes exec probe: `session-sidecar health` for liveness, `session-sidecar health --ready` \
      for readiness (the database must answer too).
      """)

  @OptionGroup var socket: SocketOption

  @Flag(name: .long, help: "Also require the database to be reachable (readiness).")
  var ready = false

  @Option(name: .long, help: "Seconds to wait for the answer.")
  var timeout = 5

  func run() async throws {
    let client = try await socket.connect()
    let health: SidecarClient.HealthResult
    do {
      health = try await client.health(timeout: .seconds(timeout))
    } catch {
      printError("not healthy: \(error)")
      throw ExitCode(1)
    }
    print("serving: \(health.serving)\nversion: \(health.version)\ndatabase_reachable: \(health.databaseReachable)")
    guard health.serving else {
      printError("not healthy: the sidecar is not serving")
      throw ExitCode(1)
    }
    if ready && !health.databaseReachable {
      printError("not ready: the sidecar cannot reach its database")
      throw ExitCode(1)
    }
  }
}
