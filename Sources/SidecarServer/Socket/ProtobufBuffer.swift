import NIOCore
import SidecarProtocol
import SwiftProtobuf

/// Lets swift-protobuf read from and write into a `ByteBuffer` directly, so that a frame is neither copied
/// into an array on the way in nor on the way out.
struct ProtobufBuffer: SwiftProtobufContiguousBytes {
  static let lengthPrefixBytes = 4
  /// Readable bytes are the message; the 4 bytes before the reader index are room for the length prefix.
  var buffer: ByteBuffer

  init(wrapping buffer: ByteBuffer) { self.buffer = buffer }

  init(repeating byte: UInt8, count: Int) {
    buffer = ByteBufferAllocator().buffer(capacity: count + Self.lengthPrefixBytes)
    buffer.writeInteger(UInt32(count))
    buffer.writeRepeatingByte(byte, count: count)
    buffer.moveReaderIndex(forwardBy: Self.lengthPrefixBytes)
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

extension WireRequest {
  init(frame: ByteBuffer) throws {
    try self.init(serializedBytes: ProtobufBuffer(wrapping: frame))
  }
}

extension WireResponse {
  /// The response as one frame: length prefix and body in a single buffer.
  func framed() throws -> ByteBuffer {
    let encoded: ProtobufBuffer = try serializedBytes()
    var frame = encoded.buffer
    frame.moveReaderIndex(to: frame.readerIndex - ProtobufBuffer.lengthPrefixBytes)
    return frame
  }
}
