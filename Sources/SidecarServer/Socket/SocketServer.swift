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
  /// Limits for connections accepted from now on; SIGHUP may change them.
  private let limits: Mutex<(maxFrameBytes: Int, maxInFlight: Int)>
  private let drainTimeout: TimeAmount
  private let dispatcher: RequestDispatcher
  private let watchers: SigningKeyWatchers
  private let metrics: SidecarMetrics
  /// Told when the socket listens and when it starts draining (systemd's READY=1 and STOPPING=1).
  private let onStateChange: @Sendable (State) -> Void
  private let group: any EventLoopGroup
  private let logger: Logger
  private let state = Mutex(State.idle)
  /// Completed exactly once: when the socket accepts connections, or with the error that stopped it.
  let listening: EventLoopPromise<Void>

  init(
    config: SidecarConfig, dispatcher: RequestDispatcher, watchers: SigningKeyWatchers, metrics: SidecarMetrics,
    group: any EventLoopGroup, logger: Logger, onStateChange: @escaping @Sendable (State) -> Void = { _ in }
  ) {
    self.metrics = metrics
    self.onStateChange = onStateChange
    self.path = config.sidecar.socketPath
    self.mode = config.sidecar.socketMode
    self.limits = Mutex((config.sidecar.maxFrameBytes, config.sidecar.maxInFlightPerConnection))
    self.drainTimeout = .seconds(Int64(config.sidecar.drainTimeoutSeconds))
    self.dispatcher = dispatcher
    self.watchers = watchers
    self.group = group
    self.logger = logger
    self.listening = group.next().makePromise()
  }

  deinit {
    // A server that never ran still owes its promise an answer.
    if state.withLock({ $0 }) == .idle { listening.fail(SocketServerNeverStarted()) }
  }

  var currentState: State { state.withLock { $0 } }

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
    let quiescing = ServerQuiescingHelper(group: group)
    let channel: any Channel
    let inode: UInt64
    do {
      (channel, inode) = try await bind(quiescing: quiescing)
    } catch {
      abandon(error)
      throw error
    }
    state.withLock { $0 = .listening }
    logger.info("listening", metadata: ["socket": "\(path)"])
    listening.succeed()
    onStateChange(.listening)

    let drained = group.next().makePromise(of: Void.self)
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
    // Remove the socket file only if it is still ours (a newer instance may have taken the path).
    if Self.inode(of: path) == inode { try? FileManager.default.removeItem(atPath: path) }
    state.withLock { $0 = .stopped }
    logger.info("stopped listening", metadata: ["socket": "\(path)"])
  }

  /// Binds in a private directory, sets the mode, then renames the socket into place: no client ever sees
  /// the socket with a wider mode than configured. Refuses a path another live process is serving.
  private func bind(quiescing: ServerQuiescingHelper) async throws -> (any Channel, UInt64) {
    let files = FileManager.default
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try files.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    if files.fileExists(atPath: path),
      let live = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get()
    {
      try? await live.close()
      throw SocketPathInUse(path: path)
    }
    // Short, so that the staging path stays within the 107-byte limit of a Unix socket path.
    let staging = (directory.isEmpty ? "." : directory) + "/.s" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    try files.createDirectory(
      atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: NSNumber(value: 0o700)])
    defer { try? files.removeItem(atPath: staging) }
    let temporary = staging + "/s"

    let (drainTimeout, dispatcher, watchers, metrics, logger) = (
      self.drainTimeout, self.dispatcher, self.watchers, self.metrics, self.logger
    )
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
        }
      }
      .childChannelInitializer { [self] channel in
        let (maxFrameBytes, maxInFlight) = limits.withLock { $0 }
        return channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: maxFrameBytes)))
          try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
              dispatcher: dispatcher, watchers: watchers, maxInFlight: maxInFlight, maxFrameBytes: maxFrameBytes,
              drainTimeout: drainTimeout, metrics: metrics, logger: logger))
        }
      }
      .bind(unixDomainSocketPath: temporary).get()
    do {
      try files.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: temporary)
      guard rename(temporary, path) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
    } catch {
      channel.close(promise: nil)
      throw error
    }
    return (channel, Self.inode(of: path) ?? 0)
  }

  private static func inode(of path: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
  }
}

/// Another process answers on the configured socket path.
struct SocketPathInUse: Error, CustomStringConvertible {
  let path: String
  var description: String {
    "another process is serving \(path); stop it or set sidecar.socketPath to another path"
  }
}

/// The sidecar stopped before its socket server ran.
struct SocketServerNeverStarted: Error, CustomStringConvertible {
  var description: String { "the socket server was not started" }
}
