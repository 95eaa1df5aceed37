import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SessionCore

/// The optional loopback HTTP listener: `GET /.well-known/jwks.json` with `Cache-Control: max-age`, so that
/// standard JWKS clients (PyJWKClient, jose's createRemoteJWKSet, Envoy) work unchanged.
final class JWKSHTTPServer: Service {
  private let host: String
  private let port: Int
  private let keyRing: SigningKeyRing
  private let clock: any WallClock
  private let group: any EventLoopGroup
  private let logger: Logger

  init(
    address: LoopbackAddress, keyRing: SigningKeyRing, clock: any WallClock, group: any EventLoopGroup, logger: Logger
  ) {
    self.host = address.host
    self.port = address.port
    self.keyRing = keyRing
    self.clock = clock
    self.group = group
    self.logger = logger
  }

  func run() async throws {
    let (keyRing, clock) = (self.keyRing, self.clock)
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 64)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
          try channel.pipeline.syncOperations.addHandler(JWKSRequestHandler(keyRing: keyRing, clock: clock))
        }
      }
      .bind(host: host, port: port).get()
    logger.info("serving the JWKS over HTTP", metadata: ["address": "\(host):\(port)"])
    try await withTaskCancellationOrGracefulShutdownHandler {
      try await channel.closeFuture.get()
    } onCancelOrGracefulShutdown: {
      channel.close(promise: nil)
    }
  }
}

/// Answers one path; anything else is 404, any other method 405.
final class JWKSRequestHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  static let path = "/.well-known/jwks.json"
  private let keyRing: SigningKeyRing
  private let clock: any WallClock
  private var request: HTTPRequestHead?

  init(keyRing: SigningKeyRing, clock: any WallClock) {
    self.keyRing = keyRing
    self.clock = clock
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      request = head
    case .body:
      break
    case .end:
      guard let head = request else { return }
      request = nil
      respond(to: head, context: context)
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    var headers = HTTPHeaders()
    let status: HTTPResponseStatus
    let body: String
    if path != Self.path {
      (status, body) = (.notFound, #"{"error":"not found"}"#)
    } else if head.method != .GET && head.method != .HEAD {
      (status, body) = (.methodNotAllowed, #"{"error":"method not allowed"}"#)
      headers.add(name: "Allow", value: "GET, HEAD")
    } else {
      let published = keyRing.published(at: clock.nowMs())
      (status, body) = (.ok, published.jwksJSON)
      headers.add(name: "Cache-Control", value: "public, max-age=\(published.cacheMaxAgeSeconds)")
    }
    headers.add(name: "Content-Type", value: "application/json")
    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
    let keepAlive = head.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
      promise: nil)
    if head.method != .HEAD {
      context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
    }
    let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
    if !keepAlive {
      let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
      done.whenComplete { _ in loopBound.value.close(promise: nil) }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
