import Foundation
import SessionSidecarWire
import SidecarClient
import TestSupport
import Testing

/// The process as operators run it: JSON logs a collector can parse line by line, and SIGHUP changing the log
/// level of a running sidecar (a change that needs a restart is named, and the sidecar keeps running).
@Suite("JSON logs and SIGHUP reload")
struct ReloadAndLogTests {
  @Test(.enabled(if: TestMySQLServer.shouldRun, TestMySQLServer.skipReason), .timeLimit(.minutes(2)))
  func sighupChangesTheLogLevelAndEveryLineIsJSON() async throws {
    try await TestDatabase.with { db in
      let socketPath = TestSidecar.socketPath()
      func yaml(level: String, connections: Int) -> String {
        """
        mysql: { host: \(db.server.host), port: \(db.server.port), user: \(db.server.user), password: "\(db.server.password)", database: \(db.name), connectionLimit: \(connections) }
        tokens: { refreshToken: { renewTokenPath: /refresh } }
        cookie: { domain: example.test }
        logging: { level: \(level), format: json }
        sidecar: { socketPath: \(socketPath), keyEncryptionKeyFile: \(SidecarExecutable.keyEncryptionKeyFile) }
        """
      }
      let config = try SidecarExecutable.writeConfig(yaml(level: "info", connections: 4))
      let logPath = config + ".log"
      FileManager.default.createFile(atPath: logPath, contents: nil)
      let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
      let (process, sidecar) = try await SidecarExecutable.serve(
        config: config, socketPath: socketPath, standardError: log)
      defer { if process.isRunning { process.terminate() } }

      // A bad frame logs at debug level: not shown at info.
      func sendBadFrame() async throws {
        let probe = try await SidecarClient.connect(socketPath: socketPath)
        try await probe.sendRaw([0, 0, 0, 0])
        _ = try await probe.awaitResponse(id: 0)
        await probe.close()
      }
      func lines() throws -> [String] {
        try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map(String.init)
      }
      try await sendBadFrame()
      try yaml(level: "debug", connections: 5).write(toFile: config, atomically: true, encoding: .utf8)
      kill(process.processIdentifier, SIGHUP)
      var reloaded = false
      for _ in 0..<100 where !reloaded {
        reloaded = try lines().contains { $0.contains("configuration reloaded") }
        if !reloaded { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(reloaded)
      try await sendBadFrame()
      #expect(try await sidecar.health().serving, "the sidecar keeps running after a reload")
      await sidecar.close()
      kill(process.processIdentifier, SIGTERM)
      try await SidecarExecutable.waitForExit(process)
      #expect(process.terminationStatus == 0)

      let all = try lines()
      var objects: [[String: Any]] = []
      for line in all {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        objects.append(try #require(object, "not a JSON object: \(line)"))
      }
      #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
      let badFrameLines = objects.filter { ($0["message"] as? String)?.contains("bad frame length") == true }
      #expect(badFrameLines.count == 1, "the debug line appears only after the reload")
      #expect(badFrameLines.first?["level"] as? String == "debug")
      #expect(
        objects.contains {
          ($0["message"] as? String)?.contains("need a restart to take effect: mysql.connectionLimit") == true
        })
    }
  }
}
