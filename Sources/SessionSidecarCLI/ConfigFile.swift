import Foundation
import SessionCore
import Yams

/// Reads the YAML configuration file into dotted keys (`tokens.accessToken.validity`) for `ConfigLoader`.
enum ConfigFile {
  struct ReadError: Error, CustomStringConvertible {
    let description: String
  }

  static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws
    -> SidecarConfig
  {
    try loadWithKeys(path: path, environment: environment).config
  }

  /// The configuration and the file's own dotted keys (what SIGHUP compares to tell what changed).
  static func loadWithKeys(
    path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> (config: SidecarConfig, fileKeys: [String: String]) {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ReadError(description: "\(path): cannot read the configuration file (\(error.localizedDescription))")
    }
    let flat = try flatten(yaml: text, path: path)
    do {
      return (try ConfigLoader().load(file: flat, environment: environment), flat)
    } catch {
      throw ReadError(description: error.problems.map { "\(path): \($0)" }.joined(separator: "\n"))
    }
  }

  private static func location(of error: any Error) -> String {
    switch error as? YamlError {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
      .composer(_, let problem, let mark, _):
      return " at line \(mark.line), column \(mark.column) (\(problem))"
    case .duplicatedKeysInMapping(let duplicates, _):
      return " (duplicated keys: \(duplicates.map(QuotedText.key).joined(separator: ", ")))"
    default:
      return ""
    }
  }

  static func flatten(yaml: String, path: String) throws -> [String: String] {
    let root: Node?
    do {
      root = try Yams.compose(yaml: yaml)
    } catch {
      // Yams' own message quotes the offending line, which may hold the password: report only where it is.
      throw ReadError(description: "\(path): not valid YAML\(Self.location(of: error))")
    }
    guard let root else { return [:] }
    guard case .mapping = root else { throw ReadError(description: "\(path): the top level must be a mapping") }
    var flat: [String: String] = [:]
    var problems: [String] = []
    /// One problem about the dotted key `key`, named as QuotedText shows keys (one printable line).
    func problem(_ key: String, _ text: String) { problems.append("\(path): \(QuotedText.key(key))\(text)") }
    /// `mysql.user: a` beside `mysql: { user: b }` names one key twice: refused, not silently one of them.
    func assign(_ key: String, _ value: String) {
      guard flat[key] == nil else { return problem(key, " is set more than once") }
      flat[key] = value
    }
    func walk(_ node: Node, prefix: String) {
      switch node {
      case .mapping(let mapping):
        for (key, value) in mapping {
          guard let name = key.string else {
            problem(prefix.isEmpty ? "<key>" : prefix + ".<key>", ": keys must be plain strings")
            continue
          }
          walk(value, prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
      case .scalar(let scalar):
        if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
          return
        }
        assign(prefix, scalar.string)
      case .sequence(let sequence):
        // Lists of plain values (sidecar.allowedUIDs) become one comma-separated value; the key's reader checks it.
        var items: [String] = []
        for item in sequence {
          guard case .scalar(let scalar) = item, !scalar.string.contains(",") else {
            problem(prefix, ": only lists of plain values are allowed")
            return
          }
          items.append(scalar.string)
        }
        assign(prefix, items.joined(separator: ","))
      case .alias:
        problem(prefix, ": YAML aliases are not allowed")
      }
    }
    walk(root, prefix: "")
    if !problems.isEmpty { throw ReadError(description: problems.joined(separator: "\n")) }
    return flat
  }
}
