import ArgumentParser

@main
struct SessionSidecarCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "session-sidecar",
    abstract: "Creates, verifies, refreshes and revokes login sessions for the applications beside it.",
    subcommands: [
      ServeCommand.self, ConfigCommand.self, KeysCommand.self, SessionsCommand.self, CallCommand.self,
      HealthCommand.self,
    ]
  )
}

/// `--config FILE`, shared by every subcommand that reads the configuration.
struct ConfigOption: ParsableArguments {
  @Option(name: .long, help: "The YAML configuration file. Environment variables override it.")
  var config: String
}
