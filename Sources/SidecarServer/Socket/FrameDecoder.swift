import NIOCore

/// One inbound frame: a message body, or a length prefix the server refuses.
enum InboundFrame {
  case message(ByteBuffer)
  /// A zero length or one over the cap. The connection cannot be resynchronised after it.
  case invalidLength(UInt32)
}

/// Splits the byte stream into frames: a 4-byte unsigned big-endian length N, then N bytes. The cap is
/// checked on the prefix, before any body is buffered, so a hostile length never makes the server allocate.
struct FrameDecoder: ByteToMessageDecoder {
  typealias InboundOut = InboundFrame

  let maxFrameBytes: Int
  private var failed = false

  init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    if failed {
      buffer.moveReaderIndex(to: buffer.writerIndex)
      return .needMoreData
    }
    guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
    guard length > 0, length <= maxFrameBytes else {
      failed = true
      buffer.moveReaderIndex(to: buffer.writerIndex)
      context.fireChannelRead(wrapInboundOut(.invalidLength(length)))
      return .needMoreData
    }
    guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
    buffer.moveReaderIndex(forwardBy: 4)
    let body = buffer.readSlice(length: Int(length))!
    context.fireChannelRead(wrapInboundOut(.message(body)))
    return .continue
  }

  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    // A partial frame at EOF is dropped: there is no complete request to answer.
    while try decode(context: context, buffer: &buffer) == .continue {}
    buffer.moveReaderIndex(to: buffer.writerIndex)
    return .needMoreData
  }
}
