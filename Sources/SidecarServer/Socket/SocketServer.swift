import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import SessionCore
import SessionSidecarWire
import Synchronization

/// The Unix-socket listener: framing, then one `ConnectionHandler` per connection.
///
/// Lifecycle: `idle → listening → draining → stopped`. On graceful shutdown (or cancellation) it stops
/// accepting, tells every connection to quiesce (each answers what it has read, ends its key streams, then
/// closes) and waits for all of them, at most `drainTimeout`; then it removes its socket file.
final class SocketServer: Service, Sendable {
  enum State: Sendable {
    case idle
    case listening
    case draining
    case stopped
  }

  private let path: String
  private let mode: UInt16
  private let group: String?
  private let readOnly: Bool
  private let maxConnections: Int
  private let idleTimeout: TimeAmount
  private let peers: PeerPolicy
  private let connections = Atomic<Int>(0)
  /// Limits for connections accepted from now on; SIGHUP may change them.
  private let limits: Mutex<(maxFrameBytes: Int, maxInFlight: Int)>
  private let drainTimeout: TimeAmount
  private let dispatcher: RequestDispatcher
  private let watchers: SigningKeyWatchers
  private let metrics: SidecarMetrics
  /// Told when the socket listens and when it starts draining (systemd's READY=1 and STOPPING=1).
  private let onStateChange: @Sendable (State) -> Void
  private let eventLoops: any EventLoopGroup
  private let logger: Logger
  private let state = Mutex(State.idle)
  /// Completed exactly once: when the socket accepts connections, or with the error that stopped it.
  let listening: EventLoopPromise<Void>

  init(
    config: SidecarConfig, path: String? = nil, readOnly: Bool = false, dispatcher: RequestDispatcher,
    watchers: SigningKeyWatchers, metrics: SidecarMetrics, group: any EventLoopGroup, logger: Logger,
    onStateChange: @escaping @Sendable (State) -> Void = { _ in }
  ) {
    self.readOnly = readOnly
    self.group = config.sidecar.socketGroup
    self.maxConnections = config.sidecar.maxConnections
    self.idleTimeout = .seconds(Int64(config.sidecar.idleTimeoutSeconds))
    self.peers = PeerPolicy(uids: Set(config.sidecar.allowedUIDs), gids: Set(config.sidecar.allowedGIDs))
    self.metrics = metrics
    self.onStateChange = onStateChange
    self.path = path ?? config.sidecar.socketPath
    self.mode = config.sidecar.socketMode
    self.limits = Mutex((config.sidecar.maxFrameBytes, config.sidecar.maxInFlightPerConnection))
    self.drainTimeout = .seconds(Int64(config.sidecar.drainTimeoutSeconds))
    self.dispatcher = dispatcher
    self.watchers = watchers
    self.eventLoops = group
    self.logger = logger
    self.listening = group.next().makePromise()
  }

  deinit {
    // A server that never ran still owes its promise an answer.
    if state.withLock({ $0 }) == .idle { listening.fail(SocketServerNeverStarted()) }
  }

  /// Applies new limits to connections accepted from now on.
  func updateLimits(maxFrameBytes: Int, maxInFlight: Int) {
    limits.withLock { $0 = (maxFrameBytes, maxInFlight) }
  }

  /// Fails the `listening` promise of a server that will never run (the sidecar's start failed).
  func abandon(_ error: any Error) {
    let wasIdle = state.withLock { state in
      defer { if state == .idle { state = .stopped } }
      return state == .idle
    }
    if wasIdle { listening.fail(error) }
  }

  func run() async throws {
    guard state.withLock({ $0 }) == .idle else { throw SocketServerNeverStarted() }
    let quiescing = ServerQuiescingHelper(group: eventLoops)
    let channel: any Channel
    let inode: UInt64
    do {
      (channel, inode) = try await bind(quiescing: quiescing)
    } catch {
      abandon(error)
      throw error
    }
    state.withLock { $0 = .listening }
    logger.info("listening", metadata: ["socket": "\(path)", "readOnly": "\(readOnly)"])
    listening.succeed()
    onStateChange(.listening)

    let drained = eventLoops.next().makePromise(of: Void.self)
    let (drainTimeout, logger) = (self.drainTimeout, self.logger)
    let beginDrain: @Sendable () -> Void = { [self] in
      let begins = self.state.withLock { state in
        defer { if state == .listening { state = .draining } }
        return state == .listening
      }
      guard begins else { return }
      self.onStateChange(.draining)
      logger.info("draining: answering what was read, then closing connections")
      quiescing.initiateShutdown(promise: drained)
      // Connections close themselves at the deadline too; this bounds the wait if one cannot.
      drained.futureResult.eventLoop.scheduleTask(in: drainTimeout + .milliseconds(500)) {
        drained.succeed()
      }
    }
    // A listener closed by anything but a shutdown still drains its connections.
    channel.closeFuture.whenComplete { _ in beginDrain() }
    await withTaskCancellationOrGracefulShutdownHandler {
      try? await drained.futureResult.get()
    } onCancelOrGracefulShutdown: {
      beginDrain()
    }
    // Only if it is still ours: a newer instance may have taken the path.
    SocketFile.remove(path, ifInode: inode)
    state.withLock { $0 = .stopped }
    logger.info("stopped listening", metadata: ["socket": "\(path)"])
  }

  /// Binds in a private directory, sets the mode, then renames the socket into place (`SocketFile`): no client
  /// ever sees the socket with a wider mode than configured. Refuses a path another live process is serving.
  private func bind(quiescing: ServerQuiescingHelper) async throws -> (any Channel, UInt64) {
    let file = try await SocketFile.stage(path: path, group: eventLoops)
    defer { file.removeStaging() }
    let channel = try await ServerBootstrap(group: eventLoops)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
        }
      }
      .childChannelInitializer { [self] channel in
        let (maxFrameBytes, maxInFlight) = limits.withLock { $0 }
        let open = connections.add(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { [self] _ in connections.subtract(1, ordering: .relaxed) }
        if open > maxConnections {
          metrics.limitHit(.connections)
          return refuse(channel, .tooManyConnections(limit: maxConnections))
        }
        guard !peers.allowsEveryone else {
          return serve(channel, maxFrameBytes: maxFrameBytes, maxInFlight: maxInFlight)
        }
        return PeerCredentials.of(channel).flatMap { [self] peer in
          guard let peer, peers.allows(peer) else {
            logger.warning(
              "connection refused: peer not in sidecar.allowedUIDs / allowedGIDs",
              metadata: [
                "uid": "\(peer.map { String($0.uid) } ?? "unknown")",
                "gid": "\(peer.map { String($0.gid) } ?? "unknown")",
              ])
            return refuse(channel, .peerNotAllowed)
          }
          return serve(channel, maxFrameBytes: maxFrameBytes, maxInFlight: maxInFlight)
        }
      }
      .bind(unixDomainSocketPath: file.stagingPath).get()
    do {
      return (channel, try file.publish(mode: mode, group: group))
    } catch {
      channel.close(promise: nil)
      throw error
    }
  }

  /// The pipeline of a served connection: framing, idle timeout, the connection handler.
  private func serve(_ channel: any Channel, maxFrameBytes: Int, maxInFlight: Int) -> EventLoopFuture<Void> {
    let (drainTimeout, dispatcher, watchers, metrics, logger, readOnly, idleTimeout) = (
      self.drainTimeout, self.dispatcher, self.watchers, self.metrics, self.logger, self.readOnly, self.idleTimeout
    )
    return channel.eventLoop.makeCompletedFuture {
      try channel.pipeline.syncOperations.addHandler(
        ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: maxFrameBytes)))
      try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
      try channel.pipeline.syncOperations.addHandler(
        ConnectionHandler(
          dispatcher: dispatcher, watchers: watchers, maxInFlight: maxInFlight, maxFrameBytes: maxFrameBytes,
          drainTimeout: drainTimeout, readOnly: readOnly, metrics: metrics, logger: logger))
    }
  }

  /// A connection that is not served: one error Response on id 0, then closed.
  private func refuse(_ channel: any Channel, _ error: ProtocolError) -> EventLoopFuture<Void> {
    channel.eventLoop.makeCompletedFuture {
      let frame = try WireResponse.failure(id: 0, error).framed()
      try channel.pipeline.syncOperations.addHandler(RefusingHandler(frame: frame))
    }
  }
}

/// The sidecar stopped before its socket server ran.
struct SocketServerNeverStarted: Error, CustomStringConvertible {
  var description: String { "the socket server was not started" }
}
