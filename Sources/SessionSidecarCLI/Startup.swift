import Foundation
import Logging
import MySQLStore
import SessionCore
import SessionStorage
import SidecarServer

/// The steps every command that needs the database shares: configuration, logging, the store.
enum Startup {
  static func loadConfig(_ path: String) throws -> SidecarConfig {
    do {
      return try ConfigFile.load(path: path)
    } catch {
      printError("error: configuration is invalid:\n\(error)")
      throw ExitCodeError.configuration
    }
  }

  /// What every command that works on the database starts with, in this order: the configuration, logging,
  /// the key-encryption key (configuration errors first), then the database.
  struct Opened {
    let config: SidecarConfig
    let logger: Logger
    let sealer: PrivateKeySealer
    let database: SessionDatabase

    var parts: (SidecarConfig, Logger, PrivateKeySealer, SessionDatabase) { (config, logger, sealer, database) }
  }

  /// Connects on the database's own threads (Connector/C never runs on Swift's cooperative pool).
  static func openDatabase(configPath: String) async throws -> Opened {
    let config = try loadConfig(configPath)
    let logger = bootstrapLogging(config)
    let sealer = try keySealer(config, logger: logger)
    let mysql = mysqlConfiguration(config)
    do {
      let database = try await SessionDatabase.open(requestThreads: Sidecar.requestThreads(config)) {
        try MySQLSessionStore.connect(mysql, logger: logger)
      }
      return Opened(config: config, logger: logger, sealer: sealer, database: database)
    } catch {
      printError("error: \(error)")
      throw ExitCodeError.database
    }
  }

  static func bootstrapLogging(_ config: SidecarConfig) -> Logger {
    SharedLogLevel.shared.current = Logger.Level(rawValue: config.loggingLevel) ?? .info
    let format = SidecarLogHandler.Format(rawValue: config.loggingFormat) ?? .text
    LoggingSystem.bootstrap { label in SidecarLogHandler(label: label, format: format) }
    return Logger(label: "session-sidecar")
  }

  static func mysqlConfiguration(_ config: SidecarConfig) -> MySQLConfiguration {
    var mysql = MySQLConfiguration(
      host: config.mysql.host, port: config.mysql.port, user: config.mysql.user, password: config.mysql.password,
      database: config.mysql.database, connectionLimit: config.mysql.connectionLimit,
      signingKeyTable: config.mysql.signingKeyTable, refreshTokenTable: config.mysql.refreshTokenTable,
      unixSocket: config.mysql.unixSocket)
    mysql.hosts = config.mysql.hosts.map { MySQLEndpoint(host: $0.host, port: $0.port) }
    switch config.mysql.tlsMode {
    case .disabled: mysql.tls = .disabled
    case .required: mysql.tls = .required
    case .verifyIdentity: mysql.tls = .verifyIdentity(caFile: config.mysql.tlsCAFile)
    }
    return mysql
  }

  /// Sealed by default: without a key-encryption key, private signing keys would sit in the database in clear
  /// (anyone who reads a backup could mint tokens), so the sidecar refuses to start unless told otherwise.
  static func keySealer(_ config: SidecarConfig, logger: Logger) throws -> PrivateKeySealer {
    guard let path = config.sidecar.keyEncryptionKeyFile else {
      guard config.sidecar.allowUnsealedKeys else {
        printError(
          "error: sidecar.keyEncryptionKeyFile is not set, so private signing keys would be stored in the database "
            + "in clear. Make a key-encryption key (32 random bytes, readable only by the sidecar's user):\n"
            + "  head -c 32 /dev/urandom > /etc/session-sidecar/kek && chmod 600 /etc/session-sidecar/kek\n"
            + "and set sidecar.keyEncryptionKeyFile to its path; or set sidecar.allowUnsealedKeys: true to store "
            + "keys in clear.")
        throw ExitCodeError.configuration
      }
      logger.warning("private signing keys are stored in the database in clear (sidecar.allowUnsealedKeys: true)")
      return PrivateKeySealer()
    }
    if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber,
      mode.uint16Value & 0o077 != 0
    {
      printError(
        "error: sidecar.keyEncryptionKeyFile (\(path)) is readable or writable by group or others (mode "
          + "\(String(mode.uint16Value & 0o777, radix: 8))); chmod 600 it")
      throw ExitCodeError.configuration
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      printError("error: sidecar.keyEncryptionKeyFile: cannot read \(path)")
      throw ExitCodeError.configuration
    }
    do {
      return try PrivateKeySealer(keyEncryptionKey: [UInt8](data))
    } catch {
      printError("error: sidecar.keyEncryptionKeyFile (\(path)): \(error)")
      throw ExitCodeError.configuration
    }
  }
}

/// Exit codes: 2 for a configuration the operator must fix, 3 for a database that cannot be used.
enum ExitCodeError: Error {
  case configuration
  case database

  var code: Int32 {
    switch self {
    case .configuration: 2
    case .database: 3
    }
  }
}
