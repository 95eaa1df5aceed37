import NIOCore

#if canImport(Glibc)
  import Glibc
#endif

/// The connecting process's credentials, from the kernel (SO_PEERCRED): who is on the other end of a Unix
/// socket, whatever it claims.
package struct PeerCredentials: Sendable, Equatable {
  package var pid: Int32
  package var uid: UInt32
  package var gid: UInt32

  /// Reads them off an accepted channel; nil where the platform has no SO_PEERCRED.
  package static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
    #if os(Linux)
      guard let provider = channel as? any SocketOptionProvider else {
        return channel.eventLoop.makeSucceededFuture(nil)
      }
      // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields, the layout of this struct.
      let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
        level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
      return future.map { Optional($0) }
    #else
      return channel.eventLoop.makeSucceededFuture(nil)
    #endif
  }
}

/// Who may talk on the sockets: empty lists allow every peer that can open the socket (its mode and group
/// decide); otherwise the peer's uid must be in `uids` or its gid in `gids`.
package struct PeerPolicy: Sendable {
  let uids: Set<UInt32>
  let gids: Set<UInt32>

  package init(uids: Set<UInt32>, gids: Set<UInt32>) {
    self.uids = uids
    self.gids = gids
  }

  package var allowsEveryone: Bool { uids.isEmpty && gids.isEmpty }

  package func allows(_ peer: PeerCredentials) -> Bool {
    allowsEveryone || uids.contains(peer.uid) || gids.contains(peer.gid)
  }
}

/// Answers a connection that is not served (too many connections, a refused peer) with one error Response on
/// id 0, then closes it.
final class RefusingHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer
  private let frame: ByteBuffer

  init(frame: ByteBuffer) { self.frame = frame }

  func channelActive(context: ChannelHandlerContext) {
    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in loopBound.value.close(promise: nil) }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
