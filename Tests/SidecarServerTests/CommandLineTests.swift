import Foundation
import SidecarClient
import TestSupport
import Testing

/// The built `session-sidecar` executable, next to the test bundle (scripts/test.sh builds it first).
enum SidecarExecutable {
  static var url: URL? {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = directory.appendingPathComponent("session-sidecar")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory.deleteLastPathComponent()
    }
    return nil
  }

  /// Runs the executable (on a thread of its own) and returns its exit status and standard error.
  static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
    let binary = try #require(url, "build the session-sidecar executable first (swift build)")
    let (status, _, errors) = try await runCapturing(binary, arguments, environment: environment)
    return (status, errors)
  }

  /// Runs the executable on a thread of its own; returns its exit status, standard output and standard error
  /// (captured in files, so neither stream can fill a pipe and stall the other).
  static func runCapturing(_ binary: URL, _ arguments: [String], environment: [String: String]) async throws
    -> (Int32, String, String)
  {
    try await onOwnThread {
      let base = NSTemporaryDirectory() + "sidecar-cli-\(UInt32.random(in: 0...UInt32.max))"
      let (outPath, errPath) = (base + ".out", base + ".err")
      defer { for path in [outPath, errPath] { try? FileManager.default.removeItem(atPath: path) } }
      for path in [outPath, errPath] { FileManager.default.createFile(atPath: path, contents: nil) }
      let process = Process()
      process.executableURL = binary
      process.arguments = arguments
      process.environment = environment
      process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
      process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
      try process.run()
      process.waitUntilExit()
      return (
        process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8),
        try String(contentsOfFile: errPath, encoding: .utf8)
      )
    }
  }

  /// Starts `serve --config CONFIG` and connects once its socket answers; the caller stops the process.
  static func serve(config: String, socketPath: String, standardError: FileHandle = .nullDevice) async throws
    -> (Process, SidecarClient)
  {
    let process = Process()
    process.executableURL = try #require(url, "build the session-sidecar executable first (swift build)")
    process.arguments = ["serve", "--config", config]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = standardError
    try process.run()
    for _ in 0..<200 {
      if let client = try? await SidecarClient.connect(socketPath: socketPath) { return (process, client) }
      try await Task.sleep(for: .milliseconds(50))
    }
    process.terminate()
    throw SidecarDidNotStart()
  }

  struct SidecarDidNotStart: Error {}

  /// Waits for a child process to exit without blocking a cooperative thread.
  static func waitForExit(_ process: Process) async throws {
    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
  }

  /// A key-encryption key file (32 random bytes, mode 0600) for configurations of the real binary.
  static let keyEncryptionKeyFile: String = {
    let path = NSTemporaryDirectory() + "sidecar-test-kek-\(UInt32.random(in: 0...UInt32.max))"
    FileManager.default.createFile(
      atPath: path, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }),
      attributes: [.posixPermissions: NSNumber(value: 0o600)])
    return path
  }()

  static func writeConfig(_ yaml: String) throws -> String {
    let path = NSTemporaryDirectory() + "sidecar-config-\(UInt32.random(in: 0...UInt32.max)).yaml"
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}

@Suite("The session-sidecar command line refuses what it cannot use, clearly")
struct CommandLineTests {
  static func config(host: String, port: Int, user: String, password: String, database: String) -> String {
    """
    mysql:
      host: \(host)
      port: \(port)
      user: \(user)
      password: "\(password)"
      database: \(database)
    tokens:
      refreshToken:
        renewTokenPath: /refresh
    cookie:
      domain: example.test
    sidecar:
      keyEncryptionKeyFile: \(SidecarExecutable.keyEncryptionKeyFile)
      socketPath: /tmp/sidecar-cli-test-\(UInt32.random(in: 0...UInt32.max)).sock
    """
  }

  @Test func configCheckListsEveryProblemWithItsRange() async throws {
    let path = try SidecarExecutable.writeConfig(
      """
      mysql:
        port: 70000
      tokens:
        accessToken:
          validity: 5
        refreshToken:
          removalCronjobInterval: "0 0 25 * * *"
      cookie:
        domain: example.test
      """)
    let (status, errors) = try await SidecarExecutable.run(["config", "check", "--config", path])
    #expect(status == 2)
    #expect(errors.contains("mysql.port: 70000 is out of range; allowed range 1...65535"))
    #expect(errors.contains("tokens.accessToken.validity: 5 is out of range; allowed range 10...86400000 (seconds)"))
    #expect(errors.contains("mysql.user: required key is missing"))
    #expect(errors.contains("tokens.refreshToken.renewTokenPath: required key is missing"))
    #expect(errors.contains("tokens.refreshToken.removalCronjobInterval: cron field 3 (hours)"))
  }

  @Test func environmentOverridesTheFileAndTheOutputMasksThePassword() async throws {
    let path = try SidecarExecutable.writeConfig(
      Self.config(host: "127.0.0.1", port: 3306, user: "u", password: "file-secret", database: "d"))
    let binary = try #require(SidecarExecutable.url)
    let (status, text, _) = try await SidecarExecutable.runCapturing(
      binary, ["config", "check", "--config", path],
      environment: ["ACCESS_TOKEN_VALIDITY": "120", "MYSQL_PASSWORD": "env-secret"])
    #expect(status == 0)
    #expect(text.contains("validity: 120  # seconds"))
    #expect(text.contains(#"password: "********""#))
    #expect(!text.contains("secret"))
  }

  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func wrongPasswordAndMissingDatabaseAreOneClearLine() async throws {
    try await TestDatabase.with { db in
      let server = db.server
      let wrongPassword = try SidecarExecutable.writeConfig(
        Self.config(
          host: server.host, port: server.port, user: server.user, password: "not-the-password", database: db.name))
      let (status, errors) = try await SidecarExecutable.run(["serve", "--config", wrongPassword])
      #expect(status == 3)
      #expect(errors.contains("access denied for user '\(server.user)'"))
      #expect(errors.contains("mysql.password"))
      #expect(!errors.contains("not-the-password"))

      let missing = try SidecarExecutable.writeConfig(
        Self.config(
          host: server.host, port: server.port, user: server.user, password: server.password,
          database: "sidecar_test_absent"))
      let (status2, errors2) = try await SidecarExecutable.run(["serve", "--config", missing])
      #expect(status2 == 3)
      #expect(errors2.contains("database 'sidecar_test_absent' does not exist"))

      let unreachable = try SidecarExecutable.writeConfig(
        Self.config(host: "127.0.0.1", port: 1, user: server.user, password: server.password, database: db.name))
      let (status3, errors3) = try await SidecarExecutable.run(["serve", "--config", unreachable])
      #expect(status3 == 3)
      #expect(errors3.contains("cannot reach MySQL at 127.0.0.1:1"))
    }
  }
}

@Suite("session-sidecar keys")
struct KeysCommandTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason))
  func rotatePublishesANewDynamicKeyThatListShows() async throws {
    try await TestDatabase.with { db in
      let server = db.server
      let path = try SidecarExecutable.writeConfig(
        CommandLineTests.config(
          host: server.host, port: server.port, user: server.user, password: server.password, database: db.name))
      // A running sidecar makes the first keys; the command line works on the same database.
      try await withTestSidecar(store: db) { _ in }
      let before = try db.connect().signingKeys().filter { $0.kind == .dynamic }.count

      let (status, errors) = try await SidecarExecutable.run(["keys", "rotate", "--config", path])
      #expect(status == 0, "\(errors)")
      let after = try db.connect().signingKeys()
      #expect(after.filter { $0.kind == .dynamic }.count == before + 1)
      let newest = try #require(after.filter { $0.kind == .dynamic }.max { $0.createdAtMs < $1.createdAtMs })
      #expect(newest.slotStartMs >= newest.createdAtMs + 60_000, "a rotated key signs only after the publish lead")

      let binary = try #require(SidecarExecutable.url)
      let process = Process()
      process.executableURL = binary
      process.arguments = ["keys", "list", "--config", path]
      let output = Pipe()
      process.standardOutput = output
      process.standardError = Pipe()
      try process.run()
      let listing = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 0)
      #expect(listing.contains(newest.kid))
      #expect(listing.contains("static"))
      #expect(!listing.contains("PRIVATE"))
    }
  }
}
