import ArgumentParser
import SidecarClient

/// Operator commands on a running sidecar: list and revoke a user's sessions.
struct SessionsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sessions", abstract: "Lists or revokes sessions through a running sidecar.",
    subcommands: [List.self, Revoke.self])

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prints the handles of a user's live sessions.")
    @OptionGroup var socket: SocketOption
    @Option(name: .long, help: "The user id.") var user: String

    func run() async throws {
      let client = try await socket.connect()
      for handle in try await answered { try await client.listSessions(userID: user) } { print(handle) }
    }
  }

  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revokes every session of a user, or the given sessions; prints the handles revoked.")
    @OptionGroup var socket: SocketOption
    @Option(name: .long, help: "Revoke every session of this user.") var user: String?
    @Option(name: .long, parsing: .upToNextOption, help: "Revoke these session handles.") var handle: [String] = []

    func validate() throws {
      guard (user == nil) != handle.isEmpty else { throw ValidationError("give either --user or --handle") }
    }

    func run() async throws {
      let client = try await socket.connect()
      let revoked = try await answered {
        if let user {
          try await client.revokeSessions(userID: user)
        } else {
          try await client.revokeSessions(handles: handle)
        }
      }
      for handle in revoked { print(handle) }
      printError("revoked \(revoked.count) session(s)")
    }
  }
}

/// Runs a call; a failure becomes one line on standard error and exit status 1.
func answered<T>(_ call: () async throws -> T) async throws -> T {
  do {
    return try await call()
  } catch {
    printError("error: \(error)")
    throw ExitCode(1)
  }
}
