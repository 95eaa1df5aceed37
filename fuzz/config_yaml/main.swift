// Fuzz target `config_yaml`: compiled into module SessionSidecarCLI with Sources/SessionSidecarCLI/ConfigFile.swift
// only, linked with a SessionCore module made of Sources/SessionCore/Config, CronSchedule and Yams
// (scripts/fuzz.sh).
//
// Input: the configuration file's text.
// Checks:
//   - ConfigFile.flatten(yaml:path:) never traps (nor does Yams/libyaml under it), and ConfigLoader then
//     either loads or lists problems;
//   - a refusal for bad YAML names only where the problem is (the code promises not to pass on Yams' message,
//     which quotes the offending line and so may quote the password): the message is "<path>: not valid YAML",
//     optionally " at line L, column C (<libyaml's fixed problem text>)" or the duplicated key names, and every
//     problem is one line of printable ASCII (QuotedText escapes the keys);
//   - the flattened keys and values are what an independent walk of the same YAML tree gives, and no dotted key
//     is set twice (`mysql.port: 1` beside `mysql: {port: 2}` would let the later one win silently, while a
//     literal duplicate key is an error). Reported as finding YAML_DOTTED_DUPLICATE (fuzz/RESULTS.md).
import SessionCore
import Yams

@_cdecl("LLVMFuzzerTestOneInput")
public func configYAMLFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  ConfigYAMLFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum ConfigYAMLFuzz {
  static let path = "fuzz.yaml"
  /// The characters of libyaml's and Yams' fixed problem texts besides letters.
  static let problemPunctuation = Set(" !%'(),-.0123456789:<>_]}".unicodeScalars)
  /// The seeds' password; no refusal may repeat it.
  static let canary = "hunter2-canary"

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    let flat: [String: String]
    do {
      flat = try ConfigFile.flatten(yaml: text, path: path)
    } catch let error as ConfigFile.ReadError {
      checkRefusal(error.description, text: text)
      return
    } catch {
      return fuzzCheck(false, "flatten threw something other than ReadError: \(error)")
    }

    if let root = try? Yams.compose(yaml: text) {
      var expected: [String: String] = [:]
      var assigned: [String: Int] = [:]
      var lists: Set<String> = []
      walk(root, prefix: "", into: &expected, counts: &assigned, lists: &lists)
      // Scalars are compared exactly; a key holding a list is ConfigFile's to spell (it may refuse lists, or
      // join lists of plain values), so it only has to be a key the tree has a list at.
      for (key, value) in expected where !lists.contains(key) {
        fuzzCheck(flat[key] == value, "flatten gives \(key) = \(String(describing: flat[key])), the tree \(value)")
      }
      for key in flat.keys where expected[key] == nil {
        fuzzCheck(lists.contains(key), "flatten invents key \(key)")
      }
      let twice = assigned.filter { $0.value > 1 }.keys.sorted()
      fuzzCheck(
        twice.isEmpty, finding: "YAML_DOTTED_DUPLICATE",
        "keys set more than once without an error: \(twice) in \(text.debugDescription)")
    } else {
      fuzzCheck(flat.isEmpty, "flatten read keys from YAML that does not compose")
    }

    do {
      _ = try ConfigLoader().load(file: flat, environment: [:])
    } catch {
      fuzzCheck(!error.problems.isEmpty, "a ConfigurationError without problems")
    }
  }

  /// The rules of ConfigFile.flatten, restated: mappings nest with ".", plain null-like scalars are absent.
  static func walk(
    _ node: Node, prefix: String, into flat: inout [String: String], counts: inout [String: Int],
    lists: inout Set<String>
  ) {
    switch node {
    case .mapping(let mapping):
      for (key, value) in mapping {
        guard let name = key.string else { continue }
        walk(value, prefix: prefix.isEmpty ? name : prefix + "." + name, into: &flat, counts: &counts, lists: &lists)
      }
    case .scalar(let scalar):
      if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return }
      flat[prefix] = scalar.string
      counts[prefix, default: 0] += 1
    case .sequence:
      lists.insert(prefix)
      counts[prefix, default: 0] += 1
    case .alias:
      break
    }
  }

  // Each line is checked on Unicode scalars first: a key that starts with a combining mark would fuse with the
  // space before it into one Character and hide a prefix that is there. Once every line is printable ASCII (or
  // `…`), Characters and scalars are the same.
  static func checkRefusal(_ message: String, text: String) {
    for scalars in message.unicodeScalars.split(separator: "\n") {
      let line = String(String.UnicodeScalarView(scalars))
      fuzzCheck(isPrintableProblemLine(line), "a problem is not one printable line: \(message.debugDescription)")
      fuzzCheck(line.hasPrefix(path + ": "), "a problem without the path: \(line.debugDescription)")
    }
    let syntax = path + ": not valid YAML"
    guard message.hasPrefix(syntax) else { return }
    let rest = message.dropFirst(syntax.count)
    if rest.isEmpty || rest.hasPrefix(" (duplicated keys: ") { return }
    // " at line L, column C (problem)": the problem is libyaml's or Yams' fixed text, never the input.
    guard rest.hasPrefix(" at line "), let open = rest.firstIndex(of: "("), rest.hasSuffix(")") else {
      return fuzzCheck(false, "unexpected YAML refusal: \(message.debugDescription)")
    }
    let problem = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
    fuzzCheck(
      problem.unicodeScalars.allSatisfy {
        $0.isASCII && ($0.properties.isAlphabetic || problemPunctuation.contains($0))
      },
      "the YAML problem text may quote the input: \(problem.debugDescription)")
    fuzzCheck(!message.contains(canary), "a YAML refusal quotes the password canary: \(message.debugDescription)")
  }
}
