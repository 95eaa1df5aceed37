import Logging
import NIOCore
import SidecarServer
import Synchronization

/// Who may connect to a gRPC listener, checked as each connection is accepted, before HTTP/2 starts: at most
/// `sidecar.maxConnections` at once, and on a Unix socket only the peers `sidecar.allowedUIDs` / `allowedGIDs`
/// allow (the kernel's SO_PEERCRED, as on the main socket). gRPC has no place for an error before a stream
/// exists, so a refused connection is closed at once (the client sees UNAVAILABLE) and logged.
final class ConnectionAdmission: Sendable {
  private let maxConnections: Int
  /// nil: no peer check (a TCP listener; the configuration refuses one while the allow-lists are set).
  private let peers: PeerPolicy?
  private let metrics: SidecarMetrics
  private let logger: Logger
  private let open = Atomic<Int>(0)

  init(maxConnections: Int, peers: PeerPolicy?, metrics: SidecarMetrics, logger: Logger) {
    self.maxConnections = maxConnections
    self.peers = peers.flatMap { $0.allowsEveryone ? nil : $0 }
    self.metrics = metrics
    self.logger = logger
  }

  /// The transport's `onAcceptTCPConnection`: succeeds for a connection to serve; closes any other.
  func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
    let count = open.add(1, ordering: .relaxed).newValue
    channel.closeFuture.whenComplete { [self] _ in open.subtract(1, ordering: .relaxed) }
    if count > maxConnections {
      metrics.limitHit(.connections)
      logger.warning(
        "gRPC connection refused: sidecar.maxConnections reached", metadata: ["limit": "\(maxConnections)"])
      return refuse(channel)
    }
    guard let peers else { return channel.eventLoop.makeSucceededVoidFuture() }
    return PeerCredentials.of(channel).recover { _ in nil }.flatMap { [self] peer in
      guard let peer, peers.allows(peer) else {
        logger.warning(
          "gRPC connection refused: peer not in sidecar.allowedUIDs / allowedGIDs",
          metadata: [
            "uid": "\(peer.map { String($0.uid) } ?? "unknown")",
            "gid": "\(peer.map { String($0.gid) } ?? "unknown")",
          ])
        return refuse(channel)
      }
      return channel.eventLoop.makeSucceededVoidFuture()
    }
  }

  private func refuse(_ channel: any Channel) -> EventLoopFuture<Void> {
    channel.close(promise: nil)
    return channel.eventLoop.makeFailedFuture(ConnectionRefused())
  }
}

/// A connection the admission closed.
struct ConnectionRefused: Error {}
