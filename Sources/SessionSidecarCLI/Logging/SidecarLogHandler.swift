import Foundation
import Logging
import SessionToken
import Synchronization

/// The level every logger of the process follows; SIGHUP changes it in a running sidecar.
final class SharedLogLevel: Sendable {
  static let shared = SharedLogLevel()
  private let level = Mutex(Logger.Level.info)

  var current: Logger.Level {
    get { level.withLock { $0 } }
    set { level.withLock { $0 = newValue } }
  }
}

/// One line per event on standard error: `text` for people, `json` (one object per line: time, level, label,
/// source, message, metadata) for log collectors. Messages and metadata never hold secrets: the code that logs
/// passes handles, kids and reasons only.
struct SidecarLogHandler: LogHandler {
  enum Format: String {
    case text
    case json
  }

  let label: String
  let format: Format
  var metadata: Logger.Metadata = [:]
  var metadataProvider: Logger.MetadataProvider?

  var logLevel: Logger.Level {
    get { SharedLogLevel.shared.current }
    // The process-wide level is set by configuration and SIGHUP, not per logger.
    set {}
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  private static let output = Mutex(())

  func log(event: LogEvent) {
    var merged = metadata
    if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
    if let extra = event.metadata { merged.merge(extra) { $1 } }
    let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    let line: String
    switch format {
    case .text:
      let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
      line =
        "\(time) \(event.level) \(label): \(fields.isEmpty ? "" : fields + " ")[\(event.source)] \(event.message)\n"
    case .json:
      var object = "{\"time\":\(Self.quoted(time)),\"level\":\(Self.quoted(event.level.rawValue))"
      object += ",\"label\":\(Self.quoted(label)),\"source\":\(Self.quoted(event.source))"
      object += ",\"message\":\(Self.quoted("\(event.message)"))"
      if !merged.isEmpty {
        object += ",\"metadata\":{"
        object += merged.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)):\(Self.quoted("\($0.value)"))" }
          .joined(separator: ",")
        object += "}"
      }
      line = object + "}\n"
    }
    Self.output.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
  }

  static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
