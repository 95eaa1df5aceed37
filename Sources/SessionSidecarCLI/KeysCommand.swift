import ArgumentParser
import Foundation
import SessionCore

struct KeysCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys", abstract: "Signing keys in the database.", subcommands: [List.self, Rotate.self])

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Lists every stored signing key (public parts only).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
      do {
        let database = try await Startup.openDatabase(configPath: options.config).database
        let keys = try await database.run { try $0.signingKeys() }
        await database.close()
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

extension KeysCommand {
  struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Publishes a new dynamic key now; it starts signing after the publish lead time (60 s).",
      discussion: """
        --static replaces the static key instead: the new one signs sessions created with use_static_key from \
        the next key round of each sidecar; the old one stays published until its last token has expired.
        """)

    @OptionGroup var options: ConfigOption

    @Flag(name: .customLong("static"), help: "Replace the static key (for processes that pin a public key).")
    var replaceStatic = false

    func run() async throws {
      do {
        let (config, logger, sealer, database) = try await Startup.openDatabase(configPath: options.config).parts
        let clock = SystemClock()
        let ring = SigningKeyRing(
          policy: SigningKeyPolicy(config: config))
        let rotation = SigningKeyRotation(database: database, ring: ring, sealer: sealer, clock: clock, logger: logger)
        let now = clock.nowMs()
        if replaceStatic {
          let kid = try await rotation.replaceStaticKey(nowMs: now, accessTokenValidityMs: config.accessTokenValidityMs)
          await database.close()
          print("created static key \(kid); the previous static key stays published until its last token expires")
          return
        }
        // The key owns a slot that starts one publish lead from now, so every verifier that refreshes its key
        // set within that time knows it before the first token it signs.
        let signsFrom = now + ring.policy.publishLeadMs
        let created = try await rotation.create(kind: .dynamic, slotStartMs: signsFrom, nowMs: now)
        await database.close()
        guard created else {
          printError("error: a key for that instant already exists; try again")
          throw ExitCode(1)
        }
        print("created d-\(now); it is published now and signs from \(signsFrom) (ms since epoch)")
      } catch let error as ExitCodeError {
        throw ExitCode(error.code)
      }
    }
  }
}
