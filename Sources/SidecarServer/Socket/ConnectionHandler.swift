import Logging
import NIOCore
import NIOPosix
import SessionCore
import SidecarProtocol

/// One client connection: decodes requests, answers fast calls inline, sends blocking calls to the thread
/// pool, and writes responses in whatever order they finish.
///
/// Backpressure: a request is only taken up while fewer than `maxInFlight` database calls are outstanding
/// and the socket's outbound buffer is below its high-water mark (the client is reading). Otherwise decoded
/// frames wait in a queue and the server stops reading the socket, so a client that pipelines without
/// reading cannot grow the server's memory beyond one read's worth of requests. Every error stays inside
/// this connection.
final class ConnectionHandler: ChannelDuplexHandler {
  typealias InboundIn = InboundFrame
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Streams one connection may open (each is a response on every key change).
  static let maxWatchesPerConnection = 8

  private let dispatcher: RequestDispatcher
  private let threadPool: NIOThreadPool
  private let watchers: SigningKeyWatchers
  private let maxInFlight: Int
  private let maxFrameBytes: Int
  private let logger: Logger
  private var inFlight = 0
  private var watches = 0
  private var queued = CircularBuffer<ByteBuffer>()
  private var readPending = false
  private var needsFlush = false

  init(
    dispatcher: RequestDispatcher, threadPool: NIOThreadPool, watchers: SigningKeyWatchers, maxInFlight: Int,
    maxFrameBytes: Int, logger: Logger
  ) {
    self.maxFrameBytes = maxFrameBytes
    self.dispatcher = dispatcher
    self.threadPool = threadPool
    self.watchers = watchers
    self.maxInFlight = maxInFlight
    self.logger = logger
  }

  private func canTakeRequest(_ context: ChannelHandlerContext) -> Bool {
    inFlight < maxInFlight && context.channel.isWritable
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .invalidLength(let length):
      let status =
        length == 0
        ? WireStatus(.invalidArgument, "frame length is zero")
        : WireStatus(.resourceExhausted, "frame length \(length) exceeds the limit of \(maxFrameBytes) bytes")
      logger.debug("closing connection after a bad frame length", metadata: ["length": "\(length)"])
      queued.removeAll()
      write(.failure(id: 0, status), context: context)
      context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: nil)
      context.close(promise: nil)
    case .message(let frame):
      if queued.isEmpty && canTakeRequest(context) {
        take(frame, context: context)
      } else {
        queued.append(frame)
      }
    }
  }

  private func take(_ frame: ByteBuffer, context: ChannelHandlerContext) {
    let request: WireRequest
    do {
      request = try WireRequest(frame: frame)
    } catch {
      write(.failure(id: 0, WireStatus(.invalidArgument, "frame does not hold a decodable Request")), context: context)
      return
    }
    handle(request, context: context)
  }

  private func handle(_ request: WireRequest, context: ChannelHandlerContext) {
    switch dispatcher.dispatch(request) {
    case .immediate(let response):
      write(response, context: context)
    case .watchSigningKeys:
      guard watches < Self.maxWatchesPerConnection else {
        let message = "at most \(Self.maxWatchesPerConnection) key streams per connection"
        write(.failure(id: request.id, WireStatus(.resourceExhausted, message)), context: context)
        return
      }
      watches += 1
      watchers.add(channel: context.channel, requestID: request.id)
    case .blocking(let job):
      inFlight += 1
      let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
      threadPool.runIfActive(eventLoop: context.eventLoop, job).whenComplete { result in
        let (handler, context) = bound.value
        handler.inFlight -= 1
        switch result {
        case .success(let response):
          handler.write(response, context: context)
        case .failure:
          handler.write(
            .failure(id: request.id, WireStatus(.unavailable, "the sidecar is shutting down")), context: context)
        }
        handler.flushIfNeeded(context: context)
        handler.drain(context: context)
      }
    }
  }

  /// Takes up queued requests while allowed, then resumes reading the socket once the queue is empty.
  private func drain(context: ChannelHandlerContext) {
    while !queued.isEmpty && canTakeRequest(context) {
      take(queued.removeFirst(), context: context)
    }
    flushIfNeeded(context: context)
    if readPending && queued.isEmpty && canTakeRequest(context) {
      readPending = false
      context.read()
    }
  }

  private func write(_ response: WireResponse, context: ChannelHandlerContext) {
    do {
      context.write(wrapOutboundOut(try response.framed()), promise: nil)
      needsFlush = true
    } catch {
      logger.error("response could not be encoded", metadata: ["error": "\(error)"])
    }
  }

  private func flushIfNeeded(context: ChannelHandlerContext) {
    guard needsFlush else { return }
    needsFlush = false
    context.flush()
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    flushIfNeeded(context: context)
    context.fireChannelReadComplete()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable { drain(context: context) }
    context.fireChannelWritabilityChanged()
  }

  func read(context: ChannelHandlerContext) {
    if queued.isEmpty && canTakeRequest(context) {
      context.read()
    } else {
      readPending = true
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    queued.removeAll()
    watchers.remove(channel: context.channel)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    logger.debug("connection error", metadata: ["error": "\(error)"])
    context.close(promise: nil)
  }
}
