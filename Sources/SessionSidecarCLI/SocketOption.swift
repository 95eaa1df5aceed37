import ArgumentParser
import SidecarClient

/// `--socket PATH`, shared by the commands that talk to a running sidecar; defaults to
/// `$SESSION_SIDECAR_SOCKET`, then to the default socket path.
struct SocketOption: ParsableArguments {
  @Option(
    name: .long,
    help: "The sidecar's socket (default: $SESSION_SIDECAR_SOCKET, else \(SidecarClient.defaultSocketPath)).")
  var socket: String?

  /// Connects, or exits 1 with a one-line reason.
  func connect() async throws -> SidecarClient {
    do {
      return try await SidecarClient.connect(socketPath: socket)
    } catch {
      let path = socket ?? SidecarClient.environmentSocketPath() ?? SidecarClient.defaultSocketPath
      printError("error: cannot connect to \(path): \(error)")
      throw ExitCode(1)
    }
  }
}
