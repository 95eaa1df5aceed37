import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SessionCore
import SidecarServer
import Synchronization

/// A gRPC listener (grpc-swift-2, HTTP/2 in plaintext) on a Unix socket or a loopback TCP address, serving the
/// contract (`SessionSidecarService`), Envoy's ext_authz (`EnvoyAuthorizationService`) and gRPC health
/// (`HealthService`). It joins the sidecar's lifecycle as one of `Sidecar.run`'s listeners.
///
/// The socket file is put in place as the main socket's is (`SocketFile`: bound in a private 0700 directory,
/// given `sidecar.socketMode` and `socketGroup`, renamed into place; a live socket on the path is refused) and
/// removed when the listener stops, if still its own. On graceful shutdown it ends its server streams with
/// UNAVAILABLE, stops accepting (HTTP/2 GOAWAY), lets the calls in flight finish, and after
/// `sidecar.drainTimeoutSeconds` closes what is left.
public final class GRPCListener: Service, Sendable {
  public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
    case unixSocket(path: String)
    case loopback(LoopbackAddress)

    public var description: String {
      switch self {
      case .unixSocket(let path): "unix:\(path)"
      case .loopback(let address):
        address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
      }
    }
  }

  public let endpoint: Endpoint
  private let calls: SidecarCalls
  private let config: SidecarConfig.Sidecar
  private let metrics: SidecarMetrics
  private let eventLoopGroup: MultiThreadedEventLoopGroup
  private let logger: Logger
  private let listening: EventLoopPromise<Void>
  private let settled = Atomic<Bool>(false)

  /// The listeners the configuration asks for: `sidecar.grpc.socketPath` and `sidecar.grpc.address`, each
  /// optional (none by default).
  public static func configured(for sidecar: Sidecar) -> [GRPCListener] {
    let grpc = sidecar.config.sidecar
    let endpoints: [Endpoint] =
      [
        grpc.grpcSocketPath.map { .unixSocket(path: $0) },
        grpc.grpcAddress.flatMap(LoopbackAddress.init(parsing:)).map { .loopback($0) },
      ]
      .compactMap { $0 }
    return endpoints.map { GRPCListener(sidecar: sidecar, endpoint: $0) }
  }

  public init(sidecar: Sidecar, endpoint: Endpoint) {
    self.endpoint = endpoint
    self.calls = sidecar.calls
    self.config = sidecar.config.sidecar
    self.metrics = sidecar.metrics
    // The transport runs on NIO's own loops; the sidecar's are those unless a test gave it others.
    self.eventLoopGroup = sidecar.group as? MultiThreadedEventLoopGroup ?? .singletonMultiThreadedEventLoopGroup
    self.logger = sidecar.logger
    self.listening = eventLoopGroup.next().makePromise()
  }

  deinit {
    settle(.failure(GRPCListenerNotStarted()))
  }

  /// Completes once the listener accepts connections; fails if it could not bind.
  public func waitUntilListening() async throws {
    try await listening.futureResult.get()
  }

  public func run() async throws {
    do {
      try await serve()
    } catch {
      settle(.failure(error))
      throw error
    }
  }

  private enum Ended: Sendable {
    case served
    case drainTimedOut
  }

  private func serve() async throws {
    let file: SocketFile?
    let address: GRPCNIOTransportCore.SocketAddress
    switch endpoint {
    case .unixSocket(let path):
      let staged = try await SocketFile.stage(path: path, group: eventLoopGroup)
      (file, address) = (staged, .unixDomainSocket(path: staged.stagingPath))
    case .loopback(let loopback):
      file = nil
      address =
        loopback.host.contains(":")
        ? .ipv6(host: loopback.host, port: loopback.port) : .ipv4(host: loopback.host, port: loopback.port)
    }
    defer { file?.removeStaging() }  // after a failed start; a published socket's is removed at once

    let admission = ConnectionAdmission(
      maxConnections: config.maxConnections,
      peers: file == nil ? nil : PeerPolicy(uids: Set(config.allowedUIDs), gids: Set(config.allowedGIDs)),
      metrics: metrics, logger: logger)
    let transport = HTTP2ServerTransport.Posix(
      address: address, transportSecurity: .plaintext,
      config: .defaults { transport in
        // The socket's limits: a request message as large as a frame, a connection idle as long.
        transport.rpc.maxRequestPayloadSize = config.maxFrameBytes
        transport.connection.maxIdleTime = .seconds(config.idleTimeoutSeconds)
        transport.channelDebuggingCallbacks.onAcceptTCPConnection = { admission.admit($0) }
      },
      eventLoopGroup: eventLoopGroup)
    let streams = OpenStreams()
    let server = GRPCServer(
      transport: transport,
      services: [
        SessionSidecarService(calls: calls, streams: streams),
        EnvoyAuthorizationService(forwardAuth: calls.forwardAuth),
        HealthService(calls: calls, streams: streams),
      ])
    let (drainTimeout, logger, endpoint) = (Duration.seconds(config.drainTimeoutSeconds), logger, endpoint)

    try await withThrowingTaskGroup(of: Ended.self) { group in
      group.addTask {
        try await server.serve()
        return .served
      }
      let inode: UInt64?
      do {
        _ = try await transport.listeningAddress
        inode = try file?.publish(mode: config.socketMode, group: config.socketGroup)
      } catch {
        group.cancelAll()
        throw error
      }
      file?.removeStaging()
      defer { if let file, let inode { SocketFile.remove(file.path, ifInode: inode) } }
      logger.info("gRPC listening", metadata: ["endpoint": "\(endpoint)"])
      settle(.success(()))

      group.addTask {
        // Returns at graceful shutdown, throws at cancellation: both mean stop.
        try? await gracefulShutdown()
        logger.info("gRPC draining: ending streams, answering calls in flight", metadata: ["endpoint": "\(endpoint)"])
        streams.drain()
        server.beginGracefulShutdown()
        try? await Task.sleep(for: drainTimeout)
        return .drainTimedOut
      }
      while let ended = try await group.next() {
        guard case .drainTimedOut = ended else { break }
        logger.warning("gRPC drain timed out: closing the connections left", metadata: ["endpoint": "\(endpoint)"])
        group.cancelAll()
      }
      group.cancelAll()
      logger.info("gRPC stopped listening", metadata: ["endpoint": "\(endpoint)"])
    }
  }

  private func settle(_ result: Result<Void, any Error>) {
    guard settled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
    listening.completeWith(result)
  }
}

/// The sidecar stopped before the gRPC listener ran.
struct GRPCListenerNotStarted: Error, CustomStringConvertible {
  var description: String { "the gRPC listener was not started" }
}
