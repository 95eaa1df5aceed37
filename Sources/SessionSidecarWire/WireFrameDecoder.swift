import NIOCore

/// One inbound frame: a message body, or a length prefix the reader refuses.
public enum WireFrame: Sendable, Equatable {
  case message(ByteBuffer)
  /// A zero length or one over the cap. The stream cannot be resynchronised after it.
  case invalidLength(UInt32)
}

/// Splits a byte stream into frames: a 4-byte unsigned big-endian length N, then N bytes. The cap is checked
/// on the prefix, before any body is buffered, so a hostile length never makes the reader allocate. After an
/// invalid length every later byte is discarded: the reader reports it once and the connection should close.
public struct WireFrameDecoder: ByteToMessageDecoder {
  public typealias InboundOut = WireFrame

  public let maxFrameBytes: Int
  private var failed = false

  public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

  /// The next frame in `buffer`, consuming it; nil when more bytes are needed (and after an invalid length).
  public mutating func next(_ buffer: inout ByteBuffer) -> WireFrame? {
    if failed {
      buffer.moveReaderIndex(to: buffer.writerIndex)
      return nil
    }
    guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
    guard length > 0, length <= maxFrameBytes else {
      failed = true
      buffer.moveReaderIndex(to: buffer.writerIndex)
      return .invalidLength(length)
    }
    guard buffer.readableBytes >= WireFraming.lengthPrefixBytes + Int(length) else { return nil }
    buffer.moveReaderIndex(forwardBy: WireFraming.lengthPrefixBytes)
    return .message(buffer.readSlice(length: Int(length))!)
  }

  public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let frame = next(&buffer) else { return .needMoreData }
    context.fireChannelRead(wrapInboundOut(frame))
    return failed ? .needMoreData : .continue
  }

  public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    // A partial frame at EOF is dropped: there is no complete message to hand on.
    while try decode(context: context, buffer: &buffer) == .continue {}
    buffer.moveReaderIndex(to: buffer.writerIndex)
    return .needMoreData
  }
}
