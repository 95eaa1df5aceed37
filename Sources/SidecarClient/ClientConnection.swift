import NIOCore
import NIOPosix
import SessionSidecarWire
import Synchronization

/// One open connection to the sidecar: frames out, frames in, responses matched to their requests by id.
final class ClientConnection: Sendable {
  let channel: any Channel
  let pending: PendingResponses

  private init(channel: any Channel, pending: PendingResponses) {
    self.channel = channel
    self.pending = pending
  }

  static func open(socketPath: String, group: any EventLoopGroup) async throws -> ClientConnection {
    let pending = PendingResponses()
    let channel = try await ClientBootstrap(group: group)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: WireFraming.maxResponseBytes)))
          try channel.pipeline.syncOperations.addHandler(ResponseHandler(pending: pending))
        }
      }
      .connect(unixDomainSocketPath: socketPath).get()
    return ClientConnection(channel: channel, pending: pending)
  }

  var isOpen: Bool { channel.isActive }

  func send(_ request: WireRequest, timeout: Duration) async throws -> WireResponse {
    var request = request
    request.id = pending.nextID()
    let id = request.id
    let frame = try request.framed()
    let (pending, channel) = (self.pending, self.channel)
    return try await withCheckedThrowingContinuation { continuation in
      pending.register(id: id, continuation)
      channel.writeAndFlush(frame).whenFailure { _ in pending.fail(id: id, SidecarClientError.connectionClosed) }
      let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
        pending.fail(id: id, SidecarClientError.timedOut)
      }
      pending.onSettled(id: id) { timer.cancel() }
    }
  }

  func openStream(_ request: WireRequest) async throws -> AsyncThrowingStream<WireResponse, any Error> {
    var request = request
    request.id = pending.nextID()
    let (stream, continuation) = AsyncThrowingStream.makeStream(of: WireResponse.self, throwing: (any Error).self)
    pending.openStream(id: request.id, continuation)
    try await channel.writeAndFlush(try request.framed())
    return stream
  }

  func close() async {
    try? await channel.close()
  }
}

extension Duration {
  var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }
}

/// Responses waited for, by request id. Responses that arrive before anyone waits are kept (for `sendRaw`).
final class PendingResponses: Sendable {
  private struct State {
    var nextID: UInt64 = 1
    var waiting: [UInt64: CheckedContinuation<WireResponse, any Error>] = [:]
    var settled: [UInt64: @Sendable () -> Void] = [:]
    var arrived: [UInt64: WireResponse] = [:]
    var streams: [UInt64: AsyncThrowingStream<WireResponse, any Error>.Continuation] = [:]
    var closed = false
  }

  private let state = Mutex(State())

  func nextID() -> UInt64 {
    state.withLock { state in
      defer { state.nextID += 1 }
      return state.nextID
    }
  }

  func register(id: UInt64, _ continuation: CheckedContinuation<WireResponse, any Error>) {
    let ready: Result<WireResponse, any Error>? = state.withLock { state in
      if let response = state.arrived.removeValue(forKey: id) { return .success(response) }
      if state.closed { return .failure(SidecarClientError.connectionClosed) }
      state.waiting[id] = continuation
      return nil
    }
    if let ready { continuation.resume(with: ready) }
  }

  /// Runs `action` once `id` is answered or failed (at once if it already is).
  func onSettled(id: UInt64, _ action: @escaping @Sendable () -> Void) {
    let runNow = state.withLock { state in
      guard state.waiting[id] != nil else { return true }
      state.settled[id] = action
      return false
    }
    if runNow { action() }
  }

  func openStream(id: UInt64, _ continuation: AsyncThrowingStream<WireResponse, any Error>.Continuation) {
    let closed = state.withLock { state in
      if !state.closed { state.streams[id] = continuation }
      return state.closed
    }
    if closed { continuation.finish(throwing: SidecarClientError.connectionClosed) }
  }

  func deliver(_ response: WireResponse) {
    if let stream = state.withLock({ $0.streams[response.id] }) {
      if response.status.code == .ok {
        stream.yield(response)
      } else {
        _ = state.withLock { $0.streams.removeValue(forKey: response.id) }
        stream.finish(throwing: SidecarCallError(response.status))
      }
      return
    }
    let (waiter, settled) = state.withLock { state in
      if let waiter = state.waiting.removeValue(forKey: response.id) {
        return (Optional(waiter), state.settled.removeValue(forKey: response.id))
      }
      state.arrived[response.id] = response
      return (nil, nil)
    }
    settled?()
    waiter?.resume(returning: response)
  }

  func fail(id: UInt64, _ error: any Error) {
    let (waiter, settled) = state.withLock { state in
      (state.waiting.removeValue(forKey: id), state.settled.removeValue(forKey: id))
    }
    settled?()
    waiter?.resume(throwing: error)
  }

  func closeAll() {
    let (waiters, streams, settled) = state.withLock { state in
      state.closed = true
      defer {
        state.waiting = [:]
        state.streams = [:]
        state.settled = [:]
      }
      return (Array(state.waiting.values), Array(state.streams.values), Array(state.settled.values))
    }
    for action in settled { action() }
    for waiter in waiters { waiter.resume(throwing: SidecarClientError.connectionClosed) }
    for stream in streams { stream.finish(throwing: SidecarClientError.connectionClosed) }
  }
}

final class ResponseHandler: ChannelInboundHandler {
  typealias InboundIn = WireFrame
  private let pending: PendingResponses

  init(pending: PendingResponses) { self.pending = pending }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard case .message(let frame) = unwrapInboundIn(data), let response = try? WireResponse(frame: frame) else {
      context.close(promise: nil)
      return
    }
    pending.deliver(response)
  }

  func channelInactive(context: ChannelHandlerContext) {
    pending.closeAll()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
