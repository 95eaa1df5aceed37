import Dispatch
import Foundation
import Logging
import SessionCore
import SidecarServer
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// SIGHUP: re-reads the configuration file and applies what can change safely (the log level, the socket's
/// limits for new connections, the operator key file); for any other changed key it logs one line naming the
/// keys that need a restart, and keeps running. An invalid file changes nothing.
final class ConfigReloader: Sendable {
  private let path: String
  private let sidecar: Sidecar
  private let logger: Logger
  private let applied: Mutex<[String: String]>

  init(path: String, sidecar: Sidecar, logger: Logger) {
    self.path = path
    self.sidecar = sidecar
    self.logger = logger
    self.applied = Mutex((try? ConfigFile.loadWithKeys(path: path).fileKeys) ?? [:])
  }

  /// Starts listening for SIGHUP; keep the returned source for as long as reloads should happen.
  func start() -> any DispatchSourceSignal {
    signal(SIGHUP, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
    source.setEventHandler { [self] in Task { await reload() } }
    source.resume()
    return source
  }

  func reload() async {
    let config: SidecarConfig
    let flat: [String: String]
    do {
      (config, flat) = try ConfigFile.loadWithKeys(path: path)
    } catch {
      logger.error("configuration not reloaded; the running one stays", metadata: ["reason": "\(error)"])
      return
    }
    let previous = applied.withLock { $0 }
    let changed = Set(flat.keys).union(previous.keys).filter { flat[$0] != previous[$0] }
    let needRestart = changed.subtracting(Sidecar.reloadableKeys).sorted()
    SharedLogLevel.shared.current = Logger.Level(rawValue: config.loggingLevel) ?? .info
    await sidecar.applyReloaded(config)
    applied.withLock { current in
      for key in changed where Sidecar.reloadableKeys.contains(key) { current[key] = flat[key] }
    }
    logger.notice(
      "configuration reloaded",
      metadata: [
        "applied": "\(changed.intersection(Sidecar.reloadableKeys).sorted().joined(separator: ","))",
        "logging.level": "\(config.loggingLevel)",
      ])
    if !needRestart.isEmpty {
      logger.warning(
        "changed keys need a restart to take effect: \(needRestart.joined(separator: ", "))",
        metadata: ["keys": "\(needRestart.joined(separator: ","))"])
    }
  }
}
