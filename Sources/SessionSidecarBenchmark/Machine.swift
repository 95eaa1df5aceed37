import Foundation

/// What the numbers were measured on.
enum Machine {
  /// The first `model name` in /proc/cpuinfo (Linux), or "unknown CPU".
  static var cpuModel: String {
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let colon = line.firstIndex(of: ":")
    else { return "unknown CPU" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
  }
}
