import ArgumentParser
import Foundation
import SessionCore
import SessionStorage

struct KeysCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys", abstract: "Signing keys in the database.", subcommands: [List.self])

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Lists every stored signing key (public parts only).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
      do {
        let config = try Startup.loadConfig(options.config)
        let logger = Startup.bootstrapLogging(config)
        let store = try Startup.connectStore(config, logger: logger)
        let keys = try store.signingKeys()
        print("kid\tkind\talg\tslot_start_ms\tcreated_at_ms\texpires_at_ms\tsealed")
        for key in keys {
          print(
            "\(key.kid)\t\(key.kind.rawValue)\t\(key.algorithm)\t\(key.slotStartMs)\t\(key.createdAtMs)\t"
              + "\(key.expiresAtMs == Int64.max ? "never" : String(key.expiresAtMs))\t\(key.sealed)")
        }
      } catch let error as ExitCodeError {
        throw ExitCode(error.code)
      }
    }
  }
}
