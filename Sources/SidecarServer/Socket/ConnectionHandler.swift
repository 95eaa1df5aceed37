import Logging
import NIOCore
import SessionCore
import SessionSidecarWire

/// One client connection: decodes requests, answers fast calls inline, hands calls that need the database to
/// the session service, and writes responses in whatever order they finish.
///
/// Backpressure: a request is only taken up while fewer than `maxInFlight` database calls are outstanding
/// and the socket's outbound buffer is below its high-water mark (the client is reading). Otherwise decoded
/// frames wait in a queue and the server stops reading the socket, so a client that pipelines without
/// reading cannot grow the server's memory beyond one read's worth of requests. Every error stays inside
/// this connection.
///
/// Drain: on `ChannelShouldQuiesceEvent` (the server is stopping) it reads no more, ends its key streams with
/// a final UNAVAILABLE status, answers every request already read (in flight and queued), then closes; the
/// drain deadline closes it regardless.
final class ConnectionHandler: ChannelDuplexHandler {
  typealias InboundIn = WireFrame
  typealias OutboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Streams one connection may open (each is a response on every key change).
  static let maxWatchesPerConnection = 8

  private let dispatcher: RequestDispatcher
  private let watchers: SigningKeyWatchers
  private let maxInFlight: Int
  private let maxFrameBytes: Int
  private let drainTimeout: TimeAmount
  /// Serves only the calls that change nothing (the read-only socket).
  private let readOnly: Bool
  private let metrics: SidecarMetrics
  private let logger: Logger
  /// Verifies seen on this connection, for sampling their durations without a shared counter.
  private var verifies = 0
  private var inFlight = 0
  private var watchIDs: [UInt64] = []
  private var queued = CircularBuffer<ByteBuffer>()
  private var readPending = false
  private var needsFlush = false
  private var draining = false

  init(
    dispatcher: RequestDispatcher, watchers: SigningKeyWatchers, maxInFlight: Int, maxFrameBytes: Int,
    drainTimeout: TimeAmount, readOnly: Bool = false, metrics: SidecarMetrics, logger: Logger
  ) {
    self.readOnly = readOnly
    self.metrics = metrics
    self.maxFrameBytes = maxFrameBytes
    self.dispatcher = dispatcher
    self.watchers = watchers
    self.maxInFlight = maxInFlight
    self.drainTimeout = drainTimeout
    self.logger = logger
  }

  private func canTakeRequest(_ context: ChannelHandlerContext) -> Bool {
    inFlight < maxInFlight && context.channel.isWritable
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .invalidLength(let length):
      let error: ProtocolError =
        length == 0 ? .zeroLengthFrame : .frameTooLarge(length: length, limit: maxFrameBytes)
      logger.debug("closing connection after a bad frame length", metadata: ["length": "\(length)"])
      metrics.protocolError()
      if length != 0 { metrics.limitHit(.frameBytes) }
      queued.removeAll()
      write(.failure(id: 0, error), context: context)
      context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: nil)
      context.close(promise: nil)
    case .message(let frame):
      if queued.isEmpty && canTakeRequest(context) {
        take(frame, context: context)
      } else {
        if inFlight >= maxInFlight { metrics.limitHit(.inFlightPerConnection) }
        queued.append(frame)
      }
    }
  }

  private func take(_ frame: ByteBuffer, context: ChannelHandlerContext) {
    let request: WireRequest
    do {
      request = try WireRequest(frame: frame)
    } catch {
      metrics.protocolError()
      write(.failure(id: 0, .undecodableRequest), context: context)
      return
    }
    handle(request, context: context)
  }

  private func handle(_ request: WireRequest, context: ChannelHandlerContext) {
    let call = request.call.map(WireCall.init)
    var started: NIODeadline? = nil
    if let call {
      if call != .verifySession {
        started = .now()
      } else {
        verifies &+= 1
        if verifies % SidecarMetrics.verifySampleEvery == 0 { started = .now() }
      }
    }
    let metrics = self.metrics
    if readOnly, let call, !Self.readOnlyCalls.contains(call) {
      metrics.answered(call, .failure(id: request.id, .readOnlySocket))
      write(.failure(id: request.id, .readOnlySocket), context: context)
      return
    }
    switch dispatcher.dispatch(request) {
    case .immediate(let response):
      Self.count(response, call: call, started: started, metrics: metrics)
      write(response, context: context)
    case .watchSigningKeys:
      guard !draining else {
        write(.failure(id: request.id, .shuttingDown), context: context)
        return
      }
      guard watchIDs.count < Self.maxWatchesPerConnection else {
        metrics.limitHit(.keyStreamsPerConnection)
        write(.failure(id: request.id, .tooManyKeyStreams(limit: Self.maxWatchesPerConnection)), context: context)
        return
      }
      metrics.answered(.watchSigningKeys, .ok(id: request.id))
      watchIDs.append(request.id)
      watchers.add(channel: context.channel, requestID: request.id)
    case .deferred(let job):
      inFlight += 1
      let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
      context.eventLoop.makeFutureWithTask { await job() }.whenSuccess { response in
        let (handler, context) = bound.value
        handler.inFlight -= 1
        Self.count(response, call: call, started: started, metrics: metrics)
        handler.write(response, context: context)
        handler.drain(context: context)
      }
    }
  }

  /// Takes up queued requests while allowed, then resumes reading the socket once the queue is empty; when
  /// the server is stopping, closes the connection once nothing is left to answer.
  private func drain(context: ChannelHandlerContext) {
    while !queued.isEmpty && canTakeRequest(context) {
      take(queued.removeFirst(), context: context)
    }
    flushIfNeeded(context: context)
    if draining {
      if inFlight == 0 && queued.isEmpty { context.close(promise: nil) }
      return
    }
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

  /// Counts an answered request (no closure, no allocation: this runs for every verify).
  private static func count(_ response: WireResponse, call: WireCall?, started: NIODeadline?, metrics: SidecarMetrics) {
    guard let call else { return metrics.protocolError() }
    metrics.answered(call, response)
    if let started { metrics.recordDuration(call, nanoseconds: (NIODeadline.now() - started).nanoseconds) }
  }

  /// What the read-only socket serves.
  static let readOnlyCalls: Set<WireCall> = [.verifySession, .getSigningKeys, .watchSigningKeys, .health]

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
      // Nothing read for the idle time: close unless answers are due or key streams are open.
      if inFlight == 0 && queued.isEmpty && watchIDs.isEmpty {
        metrics.limitHit(.idleTimeout)
        context.close(promise: nil)
      }
      return
    }
    guard event is ChannelShouldQuiesceEvent else {
      context.fireUserInboundEventTriggered(event)
      return
    }
    guard !draining else { return }
    draining = true
    watchers.remove(channel: context.channel)
    for id in watchIDs { write(.failure(id: id, .shuttingDown), context: context) }
    watchIDs.removeAll()
    let channel = context.channel
    context.eventLoop.scheduleTask(in: drainTimeout) { channel.close(promise: nil) }
    drain(context: context)
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
    if !draining && queued.isEmpty && canTakeRequest(context) {
      context.read()
    } else {
      readPending = true
    }
  }

  func channelActive(context: ChannelHandlerContext) {
    metrics.connectionOpened()
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    metrics.connectionClosed()
    queued.removeAll()
    watchers.remove(channel: context.channel)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: Error) {
    logger.debug("connection error", metadata: ["error": "\(error)"])
    context.close(promise: nil)
  }
}
