import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SessionCore
import SessionStorage
import Synchronization
import UnixSignals

/// The whole sidecar assembled from its parts: key ring, revocation set, session service, the socket
/// server and the background jobs that keep the in-memory state in step with the database.
public final class Sidecar: Sendable {
  public let config: SidecarConfig
  public let service: SessionService
  public let keyRing: SigningKeyRing
  public let rotation: SigningKeyRotation
  public let revocations: RevocationSet
  let store: any SessionStore
  let clock: any WallClock
  let logger: Logger
  /// Runs the database calls of client requests.
  let threadPool: NIOThreadPool
  /// Runs the background rounds (keys, revocations, cleanup), so a backlog of slow requests never delays them.
  let backgroundPool: NIOThreadPool
  let watchers: SigningKeyWatchers
  let socketServer: SocketServer
  let group: any EventLoopGroup
  /// Identifies this process when claiming shared jobs.
  let instanceID = RandomIdentifier.uuid()
  private let databaseHealthy = Mutex(true)
  private let publishedGeneration = Mutex(-1)

  /// How often the key ring is reloaded from the database; well under the policy's publish lead.
  public static let keySyncIntervalMs: Int64 = 5000

  public init(
    config: SidecarConfig, store: any SessionStore, clock: any WallClock = SystemClock(), logger: Logger,
    keyPolicy: SigningKeyPolicy? = nil, sealer: PrivateKeySealer = PrivateKeySealer(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.config = config
    self.store = store
    self.clock = clock
    self.logger = logger
    self.keyRing = SigningKeyRing(
      policy: keyPolicy ?? SigningKeyPolicy(config: config),
      usesDynamicKeys: config.accessToken.dynamicSigningKey && config.accessToken.signingKeyFile == nil)
    self.revocations = RevocationSet()
    self.rotation = SigningKeyRotation(
      store: store, ring: keyRing, sealer: sealer, clock: clock, logger: logger,
      userKeyFile: config.accessToken.signingKeyFile.map {
        UserSigningKeyFile(path: $0, accessTokenValidityMs: config.accessTokenValidityMs)
      })
    self.service = SessionService(
      config: config, store: store, keyRing: keyRing, revocations: revocations, clock: clock, logger: logger)
    self.group = group
    self.threadPool = NIOThreadPool(numberOfThreads: min(max(config.mysql.connectionLimit, 2), 32))
    self.watchers = SigningKeyWatchers(keyRing: keyRing, clock: clock)
    self.socketServer = SocketServer(
      config: config, dispatcher: RequestDispatcher(service: service, clock: clock), threadPool: threadPool,
      watchers: watchers, group: group, logger: logger)
    self.backgroundPool = NIOThreadPool(numberOfThreads: 2)
    threadPool.start()
    backgroundPool.start()
  }

  /// Loads keys (creating the ones due) and the revocation log. Throws when the database cannot be used;
  /// the process should then exit with the error.
  public func prepare() async throws {
    try await backgroundPool.runIfActive { [self] in
      try rotation.synchronize()
      if let path = config.accessToken.signingKeyFile, !keyRing.snapshot.keys.contains(where: \.isUserSupplied) {
        throw SessionError.failedPrecondition(
          "tokens.accessToken.signingKey.file: \(path) holds no usable RSA private key (PEM, at least 2048 bits)")
      }
      try revocations.synchronize(from: store, nowMs: clock.nowMs())
      publishKeysIfChanged()
    }
  }

  /// Completes once the socket accepts connections (or fails if it cannot be bound).
  public func waitUntilListening() async throws {
    try await socketServer.listening.futureResult.get()
  }

  /// The services to run, in start order; they stop in reverse.
  public func services(cleanup: ExpiredDataCleanup?) -> [any Service] {
    var services: [any Service] = [
      PeriodicJob(
        name: "signing-key sync", intervalMs: Self.keySyncIntervalMs, threadPool: backgroundPool, logger: logger
      ) { [self] in
        try trackDatabase { try rotation.synchronize() }
        publishKeysIfChanged()
      },
      PeriodicJob(
        name: "revocation sync", intervalMs: Int64(config.accessToken.revocationSyncIntervalMs),
        threadPool: backgroundPool, logger: logger
      ) { [self] in
        try trackDatabase { try revocations.synchronize(from: store, nowMs: clock.nowMs()) }
      },
    ]
    if let cleanup {
      services.append(
        CleanupScheduler(
          cleanup: cleanup, clock: clock, claimant: instanceID, threadPool: backgroundPool, logger: logger))
    }
    if let address = config.sidecar.httpAddress.flatMap(LoopbackAddress.init(parsing:)) {
      services.append(JWKSHTTPServer(address: address, keyRing: keyRing, clock: clock, group: group, logger: logger))
    }
    services.append(socketServer)
    return services
  }

  /// Runs until SIGTERM/SIGINT (or until the task is cancelled), then drains and stops.
  public func run(cleanup: ExpiredDataCleanup?, signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
    let group = ServiceGroup(
      services: services(cleanup: cleanup), gracefulShutdownSignals: signals, cancellationSignals: [],
      logger: logger)
    try await group.run()
    try await threadPool.shutdownGracefully()
    try await backgroundPool.shutdownGracefully()
  }

  /// Logs the moments the database is lost and regained, once each.
  private func trackDatabase(_ body: () throws -> Void) throws {
    do {
      try body()
      if databaseHealthy.withLock({
        let was = $0
        $0 = true
        return !was
      }) {
        logger.info("database regained")
      }
    } catch {
      if databaseHealthy.withLock({
        let was = $0
        $0 = false
        return was
      }) {
        logger.error("database lost; calls that need it answer UNAVAILABLE", metadata: ["error": "\(error)"])
      }
      throw error
    }
  }

  /// Pushes a changed key set to watchers and to the JWKS file.
  private func publishKeysIfChanged() {
    let generation = keyRing.snapshot.generation
    guard
      publishedGeneration.withLock({
        let changed = $0 != generation
        $0 = generation
        return changed
      })
    else {
      return
    }
    watchers.publish()
    if let path = config.sidecar.jwksFile {
      do {
        try JWKSFile.write(keyRing.snapshot.jwksJSON, to: path)
      } catch {
        logger.error("JWKS file could not be written", metadata: ["path": "\(path)", "error": "\(error)"])
      }
    }
  }
}
