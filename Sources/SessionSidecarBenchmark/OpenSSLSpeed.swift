import Foundation

/// OpenSSL's own single-core RSA-2048 verify rate, from `openssl speed`: the ceiling the verify path is
/// compared with. It verifies a fixed pre-hashed buffer with one reused context, so it does no hashing.
struct OpenSSLSpeed {
  let version: String
  let verifiesPerSecond: Double

  static func measure(seconds: Int = 3) throws -> OpenSSLSpeed {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-seconds", "\(seconds)", "rsa2048"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice  // progress lines ("Doing 2048 bits ...")
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw BenchmarkError.setupFailed("openssl speed exited with status \(process.terminationStatus)")
    }
    return try parse(text)
  }

  /// Finds the `verify/s` column in the header (`sign verify sign/s verify/s`; OpenSSL 3.2+ adds encrypt and
  /// decrypt columns) and reads the same column of the `rsa 2048 bits ...` line.
  static func parse(_ text: String) throws -> OpenSSLSpeed {
    let lines = text.split(separator: "\n")
    let version = lines.first { $0.hasPrefix("version:") }.map { $0.dropFirst("version:".count) }
    guard let header = lines.first(where: { $0.contains("verify/s") }),
      let column = header.split(separator: " ").firstIndex(of: "verify/s"),
      let row = lines.first(where: { $0.hasPrefix("rsa 2048 bits") }),
      case let values = row.dropFirst("rsa 2048 bits".count).split(separator: " "),
      column < values.count, let rate = Double(values[column])
    else { throw BenchmarkError.setupFailed("no rsa 2048 verify/s figure in openssl speed's output") }
    return OpenSSLSpeed(
      version: version.map { "OpenSSL " + $0.trimmingCharacters(in: .whitespaces) } ?? "OpenSSL",
      verifiesPerSecond: rate)
  }
}
