import ArgumentParser
import CronSchedule
import Foundation
import Logging
import SessionCore
import SidecarGRPC
import SidecarServer

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve", abstract: "Runs the sidecar on its Unix socket until SIGTERM or SIGINT.")

  @OptionGroup var options: ConfigOption

  func run() async throws {
    do {
      try await serve()
    } catch let error as ExitCodeError {
      throw ExitCode(error.code)
    }
  }

  private func serve() async throws {
    let (config, logger, sealer, database) = try await Startup.openDatabase(configPath: options.config).parts
    let sidecar = Sidecar(config: config, database: database, logger: logger, sealer: sealer)
    do {
      try await sidecar.prepare()
    } catch {
      await database.close()
      printError("error: cannot load signing keys and revocations: \(error)")
      throw ExitCodeError.database
    }
    // Validated when the configuration was loaded.
    let schedule = try CronExpression(parsing: config.refreshToken.removalCronjobInterval)
    let cleanup = ExpiredDataCleanup(schedule: schedule, database: database, logger: logger)
    logger.info(
      "session-sidecar starting",
      metadata: [
        "socket": "\(config.sidecar.socketPath)", "database": "\(config.mysql.database)",
        "blacklisting": "\(config.accessToken.blacklisting)",
      ])
    let reloader = ConfigReloader(path: options.config, sidecar: sidecar, logger: logger)
    let hangups = reloader.start()
    defer { hangups.cancel() }
    try await sidecar.run(cleanup: cleanup, listeners: GRPCListener.configured(for: sidecar))
  }
}
