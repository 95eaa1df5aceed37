import ArgumentParser
import SessionSidecarWire
import SidecarClient

struct HealthCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "health", abstract: "Asks a running sidecar whether it serves and reaches its database.")

  @Option(name: .long, help: "The sidecar's socket.")
  var socket = "/run/session-sidecar/sidecar.sock"

  func run() async throws {
    let client: SidecarClient
    do {
      client = try await SidecarClient.connect(socketPath: socket)
    } catch {
      printError("error: cannot connect to \(socket): \(error)")
      throw ExitCode(1)
    }
    var request = WireRequest()
    request.health = .init()
    let response = try await client.call(request)
    await client.close()
    let health = response.health
    print("serving: \(health.serving)\nversion: \(health.version)\ndatabase_reachable: \(health.databaseReachable)")
    if !(health.serving && health.databaseReachable) { throw ExitCode(1) }
  }
}
