import Foundation
import SessionSidecarWire
import SidecarClient
import TestSupport
import Testing

@testable import MySQLStore

/// The three-node Galera cluster of `scripts/galera.sh`, from `eval "$(scripts/galera.sh env)"`. Without it these
/// tests show as skipped; with SIDECAR_REQUIRE_GALERA=1 (the README's test command) they run and fail.
struct TestGaleraCluster: Sendable {
  var nodes: [MySQLEndpoint]
  var user: String
  var password: String
  var directory: String

  static let current: TestGaleraCluster? = {
    let environment = ProcessInfo.processInfo.environment
    guard let hosts = environment["SIDECAR_GALERA_HOSTS"], !hosts.isEmpty else { return nil }
    let nodes = hosts.split(separator: ",").compactMap { part -> MySQLEndpoint? in
      guard let colon = part.lastIndex(of: ":"), let port = Int(part[part.index(after: colon)...]) else { return nil }
      return MySQLEndpoint(host: String(part[..<colon]), port: port)
    }
    return TestGaleraCluster(
      nodes: nodes, user: environment["SIDECAR_GALERA_USER"] ?? "sidecar",
      password: environment["SIDECAR_GALERA_PASSWORD"] ?? "sidecar",
      directory: environment["SIDECAR_GALERA_DIR"] ?? "")
  }()

  static var shouldRun: Bool {
    current != nil || ProcessInfo.processInfo.environment["SIDECAR_REQUIRE_GALERA"] == "1"
  }
  static let skipReason: Comment =
    "needs a Galera cluster: scripts/galera.sh start; eval \"$(scripts/galera.sh env)\""

  static func require() throws -> TestGaleraCluster {
    try #require(current, "no Galera cluster for a test that needs one: \(skipReason)")
  }

  /// Every node, `first` (1-based) first: what a sidecar beside that node lists in `mysql.hosts`.
  func hosts(startingAt first: Int) -> [MySQLEndpoint] {
    (0..<nodes.count).map { nodes[(first - 1 + $0) % nodes.count] }
  }

  func configuration(database: String) -> MySQLConfiguration {
    var configuration = MySQLConfiguration(user: user, password: password, database: database)
    configuration.hosts = nodes
    return configuration
  }

  /// Runs a query through the store's own pool: on the first node that answers, with causal reads on (it sees
  /// every committed write).
  func select(_ sql: String, database: String) throws -> [MySQLRow] {
    let pool = ConnectionPool(configuration: configuration(database: database), logger: TestDatabase.logger)
    defer { pool.close() }
    return try pool.withConnection { try $0.select(sql, [], operation: "test query") }
  }

  func admin(_ sql: String) throws {
    _ = try select(sql, database: "")
  }

  /// `scripts/galera.sh ARGUMENTS... DIR` (kill N, restart-node N, status); its output goes to a file.
  ///
  /// Spawned and reaped here with posix_spawn and waitpid rather than Foundation's `Process`: `restart-node`
  /// leaves a mariadbd daemon behind, and `Process.waitUntilExit` was seen never to return for it (the script
  /// stayed a zombie).
  func script(_ arguments: [String]) async throws -> Int32 {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let command = [repository.appendingPathComponent("scripts/galera.sh").path] + arguments + [directory]
    let outputPath = NSTemporaryDirectory() + "galera-script-\(UInt32.random(in: 0...UInt32.max)).log"
    let status = try await onOwnThread { () -> Int32 in
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
      let argv = command.map { strdup($0) } + [nil]
      defer { for pointer in argv { free(pointer) } }
      var pid: pid_t = 0
      let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
      guard spawned == 0 else { throw ClusterTestError("posix_spawn galera.sh: error \(spawned)") }
      var status: Int32 = 0
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
      return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: outputPath)
    if status != 0 { Issue.record("galera.sh \(arguments.joined(separator: " ")) failed: \(output.suffix(2000))") }
    return status
  }

  /// A database of the test's own on the cluster, dropped afterwards.
  func withDatabase(_ body: (String) async throws -> Void) async throws {
    let name = "sidecar_test_cluster_\(String(UInt64.random(in: .min ... .max), radix: 16))"
    try await onOwnThread { try admin("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin") }
    do {
      try await body(name)
    } catch {
      _ = try? await onOwnThread { try admin("DROP DATABASE IF EXISTS `\(name)`") }
      throw error
    }
    _ = try? await onOwnThread { try admin("DROP DATABASE IF EXISTS `\(name)`") }
  }
}

struct ClusterTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// One sidecar process of a cluster test, beside one node (the first of its `mysql.hosts`).
struct ClusterSidecar: Sendable {
  let node: Int
  let process: Process
  let client: SidecarClient
  let logPath: String

  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  func stop() async {
    if process.isRunning { process.terminate() }
    try? await SidecarExecutable.waitForExit(process)
  }

  /// Starts sidecars beside the given nodes at once and waits until each answers.
  static func start(
    _ nodes: [Int], cluster: TestGaleraCluster, database: String, extraYAML: String = ""
  ) async throws -> [ClusterSidecar] {
    try await withThrowingTaskGroup(of: ClusterSidecar.self) { group in
      for node in nodes {
        group.addTask { try await start(node: node, cluster: cluster, database: database, extraYAML: extraYAML) }
      }
      var started: [ClusterSidecar] = []
      do {
        for try await sidecar in group { started.append(sidecar) }
      } catch {
        for sidecar in started { await sidecar.stop() }
        throw error
      }
      // In the order asked for (node 1's sidecar first, ...).
      var ordered: [ClusterSidecar] = []
      for node in nodes {
        let index = started.firstIndex { $0.node == node }!
        ordered.append(started.remove(at: index))
      }
      return ordered
    }
  }

  private static func start(node: Int, cluster: TestGaleraCluster, database: String, extraYAML: String)
    async throws -> ClusterSidecar
  {
    let id = UInt32.random(in: 0...UInt32.max)
    let socketPath = "/tmp/sidecar-cluster-\(id).sock"
    let logPath = NSTemporaryDirectory() + "sidecar-cluster-\(id).log"
    let hosts = cluster.hosts(startingAt: node).map(\.description).joined(separator: ", ")
    let config = try SidecarExecutable.writeConfig(
      """
      mysql:
        hosts: [\(hosts)]
        user: \(cluster.user)
        password: "\(cluster.password)"
        database: \(database)
      tokens:
        accessToken:
          blacklisting: true
          revocationSyncInterval: 200
        refreshToken:
          renewTokenPath: /refresh
      cookie:
        domain: example.test
      sidecar:
        keyEncryptionKeyFile: \(SidecarExecutable.keyEncryptionKeyFile)
        socketPath: \(socketPath)
      \(extraYAML)
      """)
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let process = Process()
    process.executableURL = SidecarExecutable.url
    process.arguments = ["serve", "--config", config]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    try process.run()
    // Four sidecars and three nodes on two cores: schema set-up and the first key can take a while.
    for _ in 0..<1200 {
      if let client = try? await SidecarClient.connect(socketPath: socketPath, defaultTimeout: .seconds(60)) {
        return ClusterSidecar(node: node, process: process, client: client, logPath: logPath)
      }
      if !process.isRunning { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    process.terminate()
    let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    let exit = process.isRunning ? "still running" : "exit status \(process.terminationStatus)"
    throw ClusterTestError("the sidecar beside node \(node) did not start (\(exit)):\n\(log.suffix(3000))")
  }
}

func withClusterSidecars(
  _ nodes: [Int], extraYAML: String = "", _ body: (TestGaleraCluster, String, [ClusterSidecar]) async throws -> Void
) async throws {
  let cluster = try TestGaleraCluster.require()
  try await cluster.withDatabase { database in
    let sidecars = try await ClusterSidecar.start(nodes, cluster: cluster, database: database, extraYAML: extraYAML)
    do {
      try await body(cluster, database, sidecars)
    } catch {
      for sidecar in sidecars { await sidecar.stop() }
      throw error
    }
    for sidecar in sidecars { await sidecar.stop() }
  }
}

@Suite(
  "Many sidecars on a three-node Galera cluster",
  .serialized, .enabled(if: TestGaleraCluster.shouldRun, TestGaleraCluster.skipReason))
struct GaleraClusterTests {
  @Test("four sidecars over three nodes start at once: one dynamic key per slot, each verifies the others' tokens")
  func fourSidecarsShareOneKeyPerSlot() async throws {
    try await withClusterSidecars([1, 2, 3, 1]) { cluster, database, sidecars in
      let slots = try await onOwnThread {
        try cluster.select(
          "SELECT slot_start_ms, COUNT(*) FROM signing_key WHERE kind = 'dynamic' GROUP BY slot_start_ms",
          database: database
        ).map { (try $0.int(0), try $0.int(1)) }
      }
      #expect(!slots.isEmpty)
      #expect(slots.allSatisfy { $0.1 == 1 }, "dynamic keys per slot: \(slots)")
      let kids = try await sidecars.asyncMap { try await Set($0.client.signingKeys().keys.map(\.kid)) }
      #expect(Set(kids).count == 1, "every sidecar publishes the same keys")

      var tokens: [String] = []
      for (index, sidecar) in sidecars.enumerated() {
        let created = try await sidecar.client.createSession(userID: "user-\(index)")
        tokens.append(created.accessToken.token)
      }
      for sidecar in sidecars {
        for (index, token) in tokens.enumerated() {
          let verified = try await sidecar.client.verifySession(accessToken: token)
          #expect(verified.outcome == .ok && verified.session.userID == "user-\(index)")
        }
      }
    }
  }

  @Test("one session refreshed at once through sidecars on different nodes: every answer OK, never theft")
  func concurrentRefreshAcrossNodes() async throws {
    try await withClusterSidecars([1, 2, 3, 2]) { _, _, sidecars in
      let created = try await sidecars[0].client.createSession(userID: "two-tabs")
      var token = created.refreshToken.token
      for round in 0..<15 {
        let presented = token
        let answers = try await sidecars.asyncMap { try await $0.client.refreshSession(refreshToken: presented) }
        let outcomes = answers.map(\.outcome)
        #expect(outcomes.allSatisfy { $0 == .ok }, "round \(round): \(outcomes)")
        let issued = Set(answers.map(\.refreshToken.token))
        #expect(issued.count == 1, "round \(round): one rotation, the others in grace get the same token")
        token = try #require(issued.first)
        for answer in answers {
          #expect(try await sidecars[3].client.verifySession(accessToken: answer.accessToken.token).outcome == .ok)
        }
      }
      let after = try await sidecars[2].client.refreshSession(refreshToken: token)
      #expect(after.outcome == .ok)
    }
  }

  @Test("a session created through node 1 and refreshed at once through node 2 is found")
  func createOnOneNodeRefreshOnAnother() async throws {
    try await withClusterSidecars([1, 2]) { _, _, sidecars in
      for index in 0..<25 {
        let created = try await sidecars[0].client.createSession(userID: "hop-\(index)")
        let refreshed = try await sidecars[1].client.refreshSession(refreshToken: created.refreshToken.token)
        #expect(refreshed.outcome == .ok, "session \(index)")
        let info = try await sidecars[1].client.getSession(handle: created.session.handle)
        #expect(info.userID == "hop-\(index)")
      }
    }
  }

  @Test("a revocation through node 1 refuses the session's tokens on a sidecar using node 3 within 1 s")
  func revocationReachesAnotherNode() async throws {
    try await withClusterSidecars([1, 3]) { _, _, sidecars in
      for index in 0..<5 {
        let created = try await sidecars[0].client.createSession(userID: "revoked-\(index)")
        let token = created.accessToken.token
        // Verified (and cached) on node 3's sidecar first.
        #expect(try await sidecars[1].client.verifySession(accessToken: token).outcome == .ok)
        let revoked = try await sidecars[0].client.revokeSessions(handles: [created.session.handle])
        #expect(revoked == [created.session.handle])
        try await Task.sleep(for: .seconds(1))
        let verified = try await sidecars[1].client.verifySession(accessToken: token)
        #expect(verified.outcome == .unauthorised, "session \(index): \(verified.outcome)")
      }
    }
  }

  @Test("cleanup runs once across the cluster: each scheduled run is carried out by exactly one sidecar")
  func cleanupRunsOnce() async throws {
    // Every second, so that a few seconds show several scheduled runs, each claimed through some node.
    try await withClusterSidecars(
      [1, 2, 3, 1], extraYAML: #"tokens.refreshToken.removalCronjobInterval: "* * * * * *""#
    ) { cluster, database, sidecars in
      try await Task.sleep(for: .seconds(5))
      let claims = try await onOwnThread {
        try cluster.select("SELECT COUNT(*) FROM refresh_token_job_run WHERE job = 'cleanup'", database: database)
          .first?.int(0) ?? 0
      }
      for sidecar in sidecars { await sidecar.stop() }
      let runs = sidecars.map { $0.log.components(separatedBy: "expired data removed").count - 1 }
      #expect(claims >= 3, "one claim a second for five seconds")
      #expect(runs.reduce(0, +) == Int(claims), "runs per sidecar \(runs), claims \(claims)")
    }
  }
}

/// What the load of the node-loss test saw: sessions answered OK (with the latest tokens it holds), and the
/// answers that were not OK.
final class ClusterLoadLog: @unchecked Sendable {
  struct Session {
    var handle: String
    var refreshToken: String
  }

  private let lock = NSLock()
  private var sessions: [Session] = []
  private var unavailable: [Int: Int] = [:]
  private var failures: [String] = []
  private var okAfter: [Int: [ContinuousClock.Instant]] = [:]

  func record(_ session: Session) { lock.withLock { sessions.append(session) } }
  func ok(node: Int) { lock.withLock { okAfter[node, default: []].append(.now) } }
  func unavailable(node: Int) { lock.withLock { unavailable[node, default: 0] += 1 } }
  func failure(_ text: String) { lock.withLock { failures.append(text) } }

  var snapshot: (sessions: [Session], unavailable: [Int: Int], failures: [String]) {
    lock.withLock { (sessions, unavailable, failures) }
  }

  func okAnswers(node: Int, between start: ContinuousClock.Instant, and end: ContinuousClock.Instant) -> Int {
    lock.withLock { okAfter[node, default: []].filter { $0 > start && $0 < end }.count }
  }
}

/// Calls `body` until it answers something other than UNAVAILABLE (what a client does while the sidecar moves to
/// another node), counting those answers; gives up after 60 s.
func untilAvailable<T: Sendable>(
  node: Int, log: ClusterLoadLog, _ body: () async throws -> T
) async throws -> T {
  let deadline = ContinuousClock.now + .seconds(60)
  while true {
    do {
      let value = try await body()
      log.ok(node: node)
      return value
    } catch let error as SidecarCallError where error.code == .unavailable && ContinuousClock.now < deadline {
      log.unavailable(node: node)
      try await Task.sleep(for: .milliseconds(100))
    }
  }
}

extension GaleraClusterTests {
  @Test("a node killed under load: its sidecars answer UNAVAILABLE briefly, move on, and no session is lost")
  func nodeKilledUnderLoad() async throws {
    try await withClusterSidecars([1, 2, 3, 2]) { cluster, _, sidecars in
      let log = ClusterLoadLog()
      let stop = ManagedAtomicFlag()
      let workers = Task {
        try await withThrowingTaskGroup(of: Void.self) { group in
          for (index, sidecar) in sidecars.enumerated() {
            for worker in 0..<3 {
              group.addTask {
                var serial = 0
                while !stop.isSet {
                  serial += 1
                  let user = "load-\(index)-\(worker)-\(serial)"
                  do {
                    let created = try await untilAvailable(node: sidecar.node, log: log) {
                      try await sidecar.client.createSession(userID: user)
                    }
                    var session = ClusterLoadLog.Session(
                      handle: created.session.handle, refreshToken: created.refreshToken.token)
                    log.record(session)
                    for _ in 0..<2 {
                      let presented = session.refreshToken
                      let refreshed = try await untilAvailable(node: sidecar.node, log: log) {
                        try await sidecar.client.refreshSession(refreshToken: presented)
                      }
                      guard refreshed.outcome == .ok else {
                        log.failure("\(user): refresh answered \(refreshed.outcome)")
                        break
                      }
                      session.refreshToken = refreshed.refreshToken.token
                      log.record(session)
                    }
                  } catch {
                    log.failure("\(user) through node \(sidecar.node): \(error)")
                  }
                }
              }
            }
          }
          try await group.waitForAll()
        }
      }
      try await Task.sleep(for: .seconds(4))
      progress("killing node 2")
      let killedAt = ContinuousClock.now
      #expect(try await cluster.script(["kill", "2"]) == 0)
      try await Task.sleep(for: .seconds(12))
      let restartAt = ContinuousClock.now
      stop.set()
      progress("stopping the load")
      try await workers.value
      progress("restarting node 2")
      #expect(try await cluster.script(["restart-node", "2"]) == 0)
      progress("node 2 is back")

      let (recorded, unavailable, failures) = log.snapshot
      #expect(failures.isEmpty, "answers other than OK and UNAVAILABLE: \(failures.prefix(10))")
      // The sidecars beside node 2 went on answering through another node while it was down.
      for sidecar in sidecars where sidecar.node == 2 {
        #expect(log.okAnswers(node: 2, between: killedAt + .seconds(8), and: restartAt) > 0)
      }
      // Every session, with the last refresh token it was given, still refreshes once the node is back.
      var latest: [String: String] = [:]
      for session in recorded { latest[session.handle] = session.refreshToken }
      #expect(latest.count > 20, "sessions created under load: \(latest.count)")
      var refused: [String] = []
      for (index, (handle, token)) in latest.enumerated() {
        let sidecar = sidecars[index % sidecars.count]
        let refreshed = try await untilAvailable(node: sidecar.node, log: log) {
          try await sidecar.client.refreshSession(refreshToken: token)
        }
        if refreshed.outcome != .ok { refused.append("\(handle): \(refreshed.outcome)") }
      }
      #expect(refused.isEmpty, "sessions lost: \(refused.prefix(10))")
      progress("checked \(latest.count) sessions")
      print(
        "cluster load: \(latest.count) sessions, UNAVAILABLE answers per node \(unavailable), "
          + "\(recorded.count) OK creates and refreshes")
    }
  }
}

/// A line on standard error at once (standard output is buffered until the run ends).
func progress(_ text: String) {
  FileHandle.standardError.write(Data("cluster test: \(text)\n".utf8))
}

/// A flag set once, read from many tasks.
final class ManagedAtomicFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool { lock.withLock { value } }
  func set() { lock.withLock { value = true } }
}

extension Sequence where Element: Sendable {
  /// Maps concurrently, keeping the order.
  func asyncMap<T: Sendable>(_ transform: @escaping @Sendable (Element) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
      for (index, element) in enumerated() {
        group.addTask { (index, try await transform(element)) }
      }
      var results: [(Int, T)] = []
      for try await result in group { results.append(result) }
      return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
  }
}
