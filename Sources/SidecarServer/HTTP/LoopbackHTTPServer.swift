import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SessionCore

/// One answer of the loopback HTTP listener.
struct HTTPAnswer {
  var status: HTTPResponseStatus
  var headers: [(String, String)] = []
  var body: ByteBuffer

  static func json(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []) -> HTTPAnswer {
    HTTPAnswer(
      status: status, headers: [("Content-Type", "application/json")] + headers, body: ByteBuffer(string: text))
  }

  static func text(_ status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain; charset=utf-8")
    -> HTTPAnswer
  {
    HTTPAnswer(status: status, headers: [("Content-Type", contentType)], body: ByteBuffer(string: text))
  }
}

/// What the listener serves, by path. Each route answers on the event loop, with no I/O.
struct HTTPRoutes: Sendable {
  let keyRing: SigningKeyRing
  let clock: any WallClock
  let metrics: SidecarMetrics
  let readiness: Readiness
  /// Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth, Envoy HTTP ext_authz).
  let forwardAuth: ForwardAuth?

  func answer(_ head: HTTPRequestHead) -> HTTPAnswer {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    // Envoy's and Istio's HTTP ext_authz append the original path to the configured prefix.
    if path == ForwardAuth.path || path.hasPrefix(ForwardAuth.path + "/"), let forwardAuth {
      // Any method: gateways forward the original request's method (or say it in a header).
      return forwardAuth.answer(head)
    }
    guard head.method == .GET || head.method == .HEAD else {
      return .json(.methodNotAllowed, #"{"error":"method not allowed"}"#, headers: [("Allow", "GET, HEAD")])
    }
    switch path {
    case "/.well-known/jwks.json":
      let published = keyRing.published(at: clock.nowMs())
      return .json(
        .ok, published.jwksJSON, headers: [("Cache-Control", "public, max-age=\(published.cacheMaxAgeSeconds)")])
    case "/metrics":
      return HTTPAnswer(
        status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
        body: ByteBuffer(bytes: metrics.exposition()))
    case "/healthz":
      return .text(.ok, "serving\n")
    case "/readyz":
      let reasons = readiness.notReadyReasons
      return reasons.isEmpty
        ? .text(.ok, "ready\n") : .text(.serviceUnavailable, reasons.joined(separator: "\n") + "\n")
    default:
      return .json(.notFound, #"{"error":"not found"}"#)
    }
  }
}

/// The optional loopback HTTP listener (`sidecar.http.address`): the JWKS for standard JWKS clients
/// (PyJWKClient, jose's createRemoteJWKSet, Envoy), `/metrics`, `/healthz`, `/readyz`, and forward-auth.
final class LoopbackHTTPServer: Service {
  private let host: String
  private let port: Int
  private let routes: HTTPRoutes
  private let group: any EventLoopGroup
  private let logger: Logger

  init(address: LoopbackAddress, routes: HTTPRoutes, group: any EventLoopGroup, logger: Logger) {
    self.host = address.host
    self.port = address.port
    self.routes = routes
    self.group = group
    self.logger = logger
  }

  func run() async throws {
    let routes = self.routes
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
          try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(routes: routes))
        }
      }
      .bind(host: host, port: port).get()
    logger.info("serving HTTP (JWKS, metrics, health, forward-auth)", metadata: ["address": "\(host):\(port)"])
    try await withTaskCancellationOrGracefulShutdownHandler {
      try await channel.closeFuture.get()
    } onCancelOrGracefulShutdown: {
      channel.close(promise: nil)
    }
  }
}

/// Reads one request at a time (bodies are ignored) and writes the route's answer.
final class HTTPRequestHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let routes: HTTPRoutes
  private var request: HTTPRequestHead?

  init(routes: HTTPRoutes) { self.routes = routes }

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
    let answer = routes.answer(head)
    var headers = HTTPHeaders(answer.headers)
    headers.add(name: "Content-Length", value: "\(answer.body.readableBytes)")
    let keepAlive = head.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))),
      promise: nil)
    if head.method != .HEAD {
      context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
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
