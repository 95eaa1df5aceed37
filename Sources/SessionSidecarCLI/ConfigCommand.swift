import ArgumentParser
import SessionCore

struct ConfigCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config", abstract: "Configuration tools.", subcommands: [Check.self])

  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Prints the effective configuration (password masked), or every error in it.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
      let config: SidecarConfig
      do {
        config = try ConfigFile.load(path: options.config)
      } catch {
        printError("\(error)")
        throw ExitCode(2)
      }
      print(EffectiveConfig.render(config))
    }
  }
}

/// The effective configuration as YAML, with the password masked.
enum EffectiveConfig {
  static func render(_ c: SidecarConfig) -> String {
    func optional(_ value: String?) -> String { value.map { quoted($0) } ?? "null" }
    func quoted(_ value: String) -> String {
      "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    return """
      mysql:
        host: \(quoted(c.mysql.host))
        port: \(c.mysql.port)
        user: \(quoted(c.mysql.user))
        password: \(c.mysql.password.isEmpty ? "\"\"" : "\"********\"")
        connectionLimit: \(c.mysql.connectionLimit)
        database: \(quoted(c.mysql.database))
        unixSocket: \(optional(c.mysql.unixSocket))
        tls:
          mode: \(c.mysql.tlsMode.rawValue)
          ca: \(optional(c.mysql.tlsCAFile))
        tables:
          signingKey: \(c.mysql.signingKeyTable)
          refreshTokens: \(c.mysql.refreshTokenTable)
      tokens:
        accessToken:
          signingKey:
            dynamic: \(c.accessToken.dynamicSigningKey)
            updateInterval: \(c.accessToken.signingKeyUpdateIntervalHours)  # hours
            file: \(optional(c.accessToken.signingKeyFile))
          validity: \(c.accessToken.validitySeconds)  # seconds
          blacklisting: \(c.accessToken.blacklisting)
          revocationSyncInterval: \(c.accessToken.revocationSyncIntervalMs)  # milliseconds
        refreshToken:
          validityMinutes: \(c.refreshToken.validityMinutes)  # \(Double(c.refreshToken.validityMinutes) / 60) hours
          removalCronjobInterval: \(quoted(c.refreshToken.removalCronjobInterval))
          renewTokenPath: \(quoted(c.refreshToken.renewTokenPath))
          rotationGracePeriod: \(c.refreshToken.rotationGracePeriodSeconds)  # seconds
      logging:
        level: \(c.loggingLevel)
      cookie:
        domain: \(quoted(c.cookie.domain))
        secure: \(c.cookie.secure)
      sidecar:
        socketPath: \(quoted(c.sidecar.socketPath))
        socketMode: "0\(String(c.sidecar.socketMode, radix: 8))"
        maxFrameBytes: \(c.sidecar.maxFrameBytes)
        maxInFlightPerConnection: \(c.sidecar.maxInFlightPerConnection)
        maxAccessTokenBytes: \(c.sidecar.maxAccessTokenBytes)
        jwksFile: \(optional(c.sidecar.jwksFile))
        http:
          address: \(optional(c.sidecar.httpAddress))
        keyEncryptionKeyFile: \(optional(c.sidecar.keyEncryptionKeyFile))
      """
  }
}

func printError(_ message: String) {
  var stderr = StandardError()
  print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
  mutating func write(_ string: String) {
    FileHandleOutput.writeStderr(string)
  }
}
