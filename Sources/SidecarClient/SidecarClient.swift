import NIOCore
import NIOPosix
import SidecarProtocol
import SwiftProtobuf
import Synchronization

/// A Swift client of the sidecar's socket: frames requests, matches responses to them by id, and lets
/// many calls share one connection at once (pipelining). Used by the CLI, the tests and the benchmark.
public final class SidecarClient: Sendable {
  public enum ClientError: Error, Sendable, Equatable {
    case connectionClosed
    case malformedResponse
  }

  private let channel: any Channel
  private let pending: PendingResponses

  private init(channel: any Channel, pending: PendingResponses) {
    self.channel = channel
    self.pending = pending
  }

  public static func connect(
    socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> SidecarClient {
    let pending = PendingResponses()
    let channel = try await ClientBootstrap(group: group)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ResponseFrameDecoder()))
          try channel.pipeline.syncOperations.addHandler(ResponseHandler(pending: pending))
        }
      }
      .connect(unixDomainSocketPath: socketPath).get()
    return SidecarClient(channel: channel, pending: pending)
  }

  /// Sends `request` (its id is assigned here) and waits for the matching response.
  public func call(_ request: WireRequest) async throws -> WireResponse {
    var request = request
    request.id = pending.nextID()
    let id = request.id
    let pending = self.pending
    let bytes: [UInt8] = try request.serializedBytes()
    var frame = channel.allocator.buffer(capacity: bytes.count + 4)
    frame.writeInteger(UInt32(bytes.count))
    frame.writeBytes(bytes)
    return try await withCheckedThrowingContinuation { continuation in
      pending.register(id: id, continuation)
      channel.writeAndFlush(frame).whenFailure { error in
        pending.fail(id: id, error)
      }
    }
  }

  /// Opens a WatchSigningKeys stream: the key set now, then again each time it changes, until the connection
  /// closes or the stream's consumer stops.
  public func watchSigningKeys() async throws -> AsyncThrowingStream<
    Sessionsidecar_V1_GetSigningKeysResponse, any Error
  > {
    var request = WireRequest()
    request.watchSigningKeys = .init()
    request.id = pending.nextID()
    let (stream, continuation) = AsyncThrowingStream.makeStream(
      of: Sessionsidecar_V1_GetSigningKeysResponse.self, throwing: (any Error).self)
    pending.openStream(id: request.id, continuation)
    let bytes: [UInt8] = try request.serializedBytes()
    var frame = channel.allocator.buffer(capacity: bytes.count + 4)
    frame.writeInteger(UInt32(bytes.count))
    frame.writeBytes(bytes)
    try await channel.writeAndFlush(frame)
    return stream
  }

  /// Sends raw bytes as they are (for tests of hostile input).
  public func sendRaw(_ bytes: [UInt8]) async throws {
    try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
  }

  /// Waits for the response with `id` to a request sent by `sendRaw` (0 for connection-level errors).
  public func awaitResponse(id: UInt64) async throws -> WireResponse {
    try await withCheckedThrowingContinuation { continuation in pending.register(id: id, continuation) }
  }

  public var isOpen: Bool { channel.isActive }

  public func close() async {
    try? await channel.close()
  }
}

/// Responses waited for, by request id. Responses that arrive before anyone waits are kept.
final class PendingResponses: Sendable {
  private struct State {
    var nextID: UInt64 = 1
    var waiting: [UInt64: CheckedContinuation<WireResponse, any Error>] = [:]
    var arrived: [UInt64: WireResponse] = [:]
    var streams: [UInt64: AsyncThrowingStream<Sessionsidecar_V1_GetSigningKeysResponse, any Error>.Continuation] = [:]
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
      if state.closed { return .failure(SidecarClient.ClientError.connectionClosed) }
      state.waiting[id] = continuation
      return nil
    }
    if let ready { continuation.resume(with: ready) }
  }

  func openStream(
    id: UInt64, _ continuation: AsyncThrowingStream<Sessionsidecar_V1_GetSigningKeysResponse, any Error>.Continuation
  ) {
    let closed = state.withLock { state in
      if !state.closed { state.streams[id] = continuation }
      return state.closed
    }
    if closed { continuation.finish(throwing: SidecarClient.ClientError.connectionClosed) }
  }

  func deliver(_ response: WireResponse) {
    if let stream = state.withLock({ $0.streams[response.id] }) {
      if response.status.code == .ok {
        stream.yield(response.watchSigningKeys)
      } else {
        stream.finish(throwing: SidecarClient.ClientError.malformedResponse)
      }
      return
    }
    let waiter = state.withLock { state -> CheckedContinuation<WireResponse, any Error>? in
      if let waiter = state.waiting.removeValue(forKey: response.id) { return waiter }
      state.arrived[response.id] = response
      return nil
    }
    waiter?.resume(returning: response)
  }

  func fail(id: UInt64, _ error: any Error) {
    state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(throwing: error)
  }

  func closeAll() {
    let (waiters, streams) = state.withLock { state in
      state.closed = true
      defer {
        state.waiting = [:]
        state.streams = [:]
      }
      return (Array(state.waiting.values), Array(state.streams.values))
    }
    for waiter in waiters { waiter.resume(throwing: SidecarClient.ClientError.connectionClosed) }
    for stream in streams { stream.finish() }
  }
}

struct ResponseFrameDecoder: ByteToMessageDecoder {
  typealias InboundOut = ByteBuffer
  /// A response larger than this means the peer is not a sidecar; the connection is closed.
  static let maxFrameBytes = 64 << 20

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
    guard length <= Self.maxFrameBytes else { throw SidecarClient.ClientError.malformedResponse }
    guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
    buffer.moveReaderIndex(forwardBy: 4)
    context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
    return .continue
  }
}

final class ResponseHandler: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  private let pending: PendingResponses

  init(pending: PendingResponses) { self.pending = pending }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    guard let response = try? WireResponse(serializedBytes: Array(frame.readableBytesView)) else {
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
