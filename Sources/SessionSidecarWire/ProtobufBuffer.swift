import NIOCore
import SwiftProtobuf

/// The framing both sides share: a 4-byte unsigned big-endian length, then one protobuf message.
public enum WireFraming {
  public static let lengthPrefixBytes = 4
  /// What a client accepts as one response: larger means the peer is not a sidecar.
  public static let maxResponseBytes = 64 << 20
}

/// Lets swift-protobuf read from and write into a `ByteBuffer` directly, so that a frame is neither copied
/// into an array on the way in nor on the way out.
struct ProtobufBuffer: SwiftProtobufContiguousBytes {
  /// Readable bytes are the message; the 4 bytes before the reader index are room for the length prefix.
  var buffer: ByteBuffer

  init(wrapping buffer: ByteBuffer) { self.buffer = buffer }

  init(repeating byte: UInt8, count: Int) {
    buffer = ByteBufferAllocator().buffer(capacity: count + WireFraming.lengthPrefixBytes)
    buffer.writeInteger(UInt32(count))
    buffer.writeRepeatingByte(byte, count: count)
    buffer.moveReaderIndex(forwardBy: WireFraming.lengthPrefixBytes)
  }

  init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
    let bytes = Array(sequence)
    self.init(repeating: 0, count: bytes.count)
    buffer.setBytes(bytes, at: buffer.readerIndex)
  }

  var count: Int { buffer.readableBytes }

  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try buffer.withUnsafeReadableBytes(body)
  }

  mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
    try buffer.withUnsafeMutableReadableBytes(body)
  }
}

extension SwiftProtobuf.Message {
  /// Decodes one frame's body (what `WireFrameDecoder` hands on).
  public init(frame: ByteBuffer) throws {
    try self.init(serializedBytes: ProtobufBuffer(wrapping: frame))
  }

  /// The message as one frame: length prefix and body in a single buffer.
  public func framed() throws -> ByteBuffer {
    let encoded: ProtobufBuffer = try serializedBytes()
    var frame = encoded.buffer
    frame.moveReaderIndex(to: frame.readerIndex - WireFraming.lengthPrefixBytes)
    return frame
  }
}
