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
  public let database: SessionDatabase
  public let metrics: SidecarMetrics
  public let readiness: Readiness
  let clock: any WallClock
  package let logger: Logger
  let watchers: SigningKeyWatchers
  let dispatcher: RequestDispatcher
  let socketServer: SocketServer
  /// `sidecar.readOnlySocketPath`: VerifySession, GetSigningKeys, WatchSigningKeys and Health only.
  let readOnlySocketServer: SocketServer?
  package let group: any EventLoopGroup
  /// Identifies this process when claiming shared jobs.
  let instanceID = RandomIdentifier.uuid()
  private let databaseHealthy = Mutex(true)
  private let publishedGeneration = Mutex(-1)
  private let serviceGroup = Mutex<ServiceGroup?>(nil)
  /// Cache hits and misses already added to the metrics.
  private let cacheCounted = Mutex((hits: 0, misses: 0))

  /// How often the key ring is reloaded from the database; well under the policy's publish lead.
  public static let keySyncIntervalMs: Int64 = 5000

  public init(
    config: SidecarConfig, database: SessionDatabase, clock: any WallClock = SystemClock(), logger: Logger,
    keyPolicy: SigningKeyPolicy? = nil, sealer: PrivateKeySealer = PrivateKeySealer(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.config = config
    self.database = database
    self.clock = clock
    self.logger = logger
    self.keyRing = SigningKeyRing(
      policy: keyPolicy ?? SigningKeyPolicy(config: config),
      usesDynamicKeys: config.accessToken.dynamicSigningKey && config.accessToken.signingKeyFile == nil)
    self.revocations = RevocationSet()
    self.rotation = SigningKeyRotation(
      database: database, ring: keyRing, sealer: sealer, clock: clock, logger: logger,
      userKeyFile: config.accessToken.signingKeyFile.map {
        UserSigningKeyFile(path: $0, accessTokenValidityMs: config.accessTokenValidityMs)
      })
    self.service = SessionService(
      config: config, database: database, keyRing: keyRing, revocations: revocations, clock: clock, logger: logger,
      refreshTokenDerivationKey: sealer.refreshTokenDerivationKey)
    self.group = group
    self.watchers = SigningKeyWatchers(keyRing: keyRing, clock: clock)
    let metrics = SidecarMetrics()
    self.metrics = metrics
    self.readiness = Readiness(
      windowSeconds: config.sidecar.readinessDatabaseWindowSeconds, keyRing: keyRing, clock: clock)
    let dispatcher = RequestDispatcher(service: service, clock: clock, readiness: readiness, metrics: metrics)
    self.dispatcher = dispatcher
    let watchers = self.watchers
    self.readOnlySocketServer = config.sidecar.readOnlySocketPath.map {
      SocketServer(
        config: config, path: $0, readOnly: true, dispatcher: dispatcher, watchers: watchers, metrics: metrics,
        group: group, logger: logger)
    }
    self.socketServer = SocketServer(
      config: config, dispatcher: dispatcher, watchers: watchers, metrics: metrics, group: group, logger: logger
    ) { state in
      switch state {
      case .listening: SystemdNotifier.notify("READY=1")
      case .draining: SystemdNotifier.notify("STOPPING=1")
      case .idle, .stopped: break
      }
    }
  }

  /// The number of threads that run client calls on the database: the pool's size, at least 2, at most 32.
  public static func requestThreads(_ config: SidecarConfig) -> Int {
    min(max(config.mysql.connectionLimit, 2), 32)
  }

  /// Loads keys (creating the ones due) and the revocation log. Throws when the database cannot be used;
  /// the process should then exit with the error, and `waitUntilListening` fails with it.
  public func prepare() async throws {
    let started = clock.nowMs()
    do {
      try await rotation.synchronize()
      if let path = config.accessToken.signingKeyFile, !keyRing.snapshot.keys.contains(where: \.isUserSupplied) {
        throw SigningKeyError.keyFileNotAnRSAKey(path: path)
      }
      try await revocations.synchronize(from: database, nowMs: clock.nowMs())
      readiness.databaseAnswered(callStartedAtMs: started)
      publishKeysIfChanged()
    } catch {
      socketServer.abandon(error)
      readOnlySocketServer?.abandon(error)
      throw error
    }
  }

  /// Completes once the socket accepts connections; fails if it cannot be bound or the start failed.
  public func waitUntilListening() async throws {
    try await socketServer.listening.futureResult.get()
    try await readOnlySocketServer?.listening.futureResult.get()
  }

  /// The services to run, in start order; they stop in reverse: the socket server drains first, then the other
  /// `listeners` (the gRPC ones, built outside this module), the HTTP listener; the database (its threads and
  /// connections) closes last.
  public func services(cleanup: ExpiredDataCleanup?, listeners: [any Service] = []) -> [any Service] {
    var services: [any Service] = [
      DatabaseService(database: database),
      PeriodicJob(name: "signing-key sync", intervalMs: Self.keySyncIntervalMs, logger: logger) { [self] in
        try await trackDatabase { try await rotation.synchronize() }
        publishKeysIfChanged()
      },
      PeriodicJob(
        name: "revocation sync", intervalMs: Int64(config.accessToken.revocationSyncIntervalMs), logger: logger
      ) { [self] in
        try await trackDatabase { try await revocations.synchronize(from: database, nowMs: clock.nowMs()) }
      },
    ]
    services.append(
      PeriodicJob(name: "database ping", intervalMs: Readiness.pingIntervalMs, logger: logger) { [self] in
        defer { updateGauges() }
        try await trackDatabase { try await database.run(on: .background) { try $0.ping() } }
      })
    if let cleanup {
      services.append(CleanupScheduler(cleanup: cleanup, clock: clock, claimant: instanceID, logger: logger))
    }
    if let address = config.sidecar.httpAddress.flatMap(LoopbackAddress.init(parsing:)) {
      let routes = HTTPRoutes(
        keyRing: keyRing, clock: clock, metrics: metrics, readiness: readiness,
        forwardAuth: ForwardAuth(service: service, metrics: metrics))
      services.append(LoopbackHTTPServer(address: address, routes: routes, group: group, logger: logger))
    }
    services += listeners
    if let readOnlySocketServer { services.append(readOnlySocketServer) }
    services.append(socketServer)
    return services
  }

  /// Runs until SIGTERM/SIGINT, `shutdown()` or cancellation, then drains and stops every service. `listeners`
  /// join the lifecycle beside the sockets (see `services`).
  public func run(
    cleanup: ExpiredDataCleanup?, listeners: [any Service] = [], signals: [UnixSignal] = [.sigterm, .sigint]
  ) async throws {
    let group = ServiceGroup(
      services: services(cleanup: cleanup, listeners: listeners), gracefulShutdownSignals: signals,
      cancellationSignals: [],
      logger: logger)
    serviceGroup.withLock { $0 = group }
    defer {
      socketServer.abandon(SocketServerNeverStarted())
      readOnlySocketServer?.abandon(SocketServerNeverStarted())
    }
    try await group.run()
  }

  /// Applies what a reloaded configuration may change while running: the socket's limits for new connections,
  /// and a key round now (it re-reads the operator key file). Other changes need a restart.
  public func applyReloaded(_ reloaded: SidecarConfig) async {
    socketServer.updateLimits(
      maxFrameBytes: reloaded.sidecar.maxFrameBytes, maxInFlight: reloaded.sidecar.maxInFlightPerConnection)
    do {
      try await rotation.synchronize()
      publishKeysIfChanged()
    } catch {
      logger.warning("key round after reload failed; it runs again on its next tick", metadata: ["error": "\(error)"])
    }
  }

  /// Keys a running sidecar applies on reload (SIGHUP); a change to any other key needs a restart.
  public static let reloadableKeys: Set<String> = [
    "logging.level", "sidecar.maxFrameBytes", "sidecar.maxInFlightPerConnection",
  ]

  /// Starts a graceful shutdown, as SIGTERM does.
  public func shutdown() async {
    await serviceGroup.withLock { $0 }?.triggerGracefulShutdown()
  }

  /// Logs the moments the database is lost and regained, once each.
  private func trackDatabase(_ body: () async throws -> Void) async throws {
    let started = clock.nowMs()
    do {
      try await body()
      readiness.databaseAnswered(callStartedAtMs: started)
      metrics.databaseReachable.record(1)
      if databaseHealthy.withLock({
        let was = $0
        $0 = true
        return !was
      }) {
        logger.info("database regained")
      }
    } catch {
      metrics.databaseErrors.increment()
      metrics.databaseReachable.record(0)
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

  /// Gauges read from state rather than counted on events: the signing key's age and the connection pool.
  private func updateGauges() {
    let now = clock.nowMs()
    if let key = keyRing.signingKey(useStaticKey: !config.accessToken.dynamicSigningKey, at: now) {
      metrics.signingKeyAge.record(Double(max(now - key.createdAtMs, 0)) / 1000)
    }
    let pool = database.poolStatistics
    metrics.poolInUse.record(pool.inUse)
    metrics.poolWaiting.record(pool.waiting)
    if let cache = service.verifiedTokens {
      let now = (hits: cache.hits.load(ordering: .relaxed), misses: cache.misses.load(ordering: .relaxed))
      let before = cacheCounted.withLock { counted in
        defer { counted = now }
        return counted
      }
      metrics.cacheHits.increment(by: now.hits - before.hits)
      metrics.cacheMisses.increment(by: now.misses - before.misses)
      metrics.cacheEntries.record(cache.count)
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
    metrics.signingKeyRotations.increment()
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
