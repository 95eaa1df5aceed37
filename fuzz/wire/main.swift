// Fuzz target `wire`: compiled into module SessionSidecarWire with Sources/SessionSidecarWire (scripts/fuzz.sh).
//
// Input: one control byte, then a byte stream as a client would send it on the socket.
//   control & 3        the frame cap (16, 300, 1024 or the server default, sidecar.maxFrameBytes = 256 KiB)
//   control >> 2       seeds the read sizes of the chunked passes; control & 0x80 == 0: one read in the channel
// Checks:
//   1. WireFrameDecoder.next(&buffer) finds exactly the frames a hand-written model of the framing rules finds
//      (4-byte big-endian length, 0 or over the cap is reported once and ends the stream, partial frame at
//      the end left over), whether the stream arrives in one read or in many small ones with the cumulation
//      buffer compacted between reads as ByteToMessageHandler does; frames handed out stay intact after it.
//      The same chunks through NIO's real ByteToMessageHandler in an EmbeddedChannel (decode, then decodeLast at
//      the end) give the same frames, no error and nothing left over.
//   2. Each frame body: WireRequest(frame:) (the ByteBuffer path the server uses) agrees with SwiftProtobuf's
//      own [UInt8] path; a decoded request gets the dispatcher's envelope checks (no call / unknown call /
//      reserved id 0, WireCall by every spelling of its name), its answer is framed and read back, and the
//      request survives serialise → decode and framed() → decoder unchanged.
//   3. The same body as a WireResponse (what SidecarClient decodes): both paths agree, it round-trips, and
//      the status code has a printable name.
import NIOCore
import NIOEmbedded
import SwiftProtobuf

@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  WireFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum WireFuzz {
  /// The last is SidecarConfig's default maxFrameBytes (SessionCore is not linked into this target).
  static let caps = [16, 300, 1024, 256 * 1024]
  /// Frames looked at in depth per input; the rest are only split.
  static let framesChecked = 16

  struct Outcome: Equatable {
    var frames: [[UInt8]] = []
    var invalidLength: UInt32? = nil
    /// Bytes still buffered at the end (a partial frame; 0 after an invalid length, which drops everything).
    var leftover = 0
  }

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let control = reader.byte()
    let stream = reader.rest()
    let cap = caps[Int(control & 3)]

    let expected = model(stream, cap: cap)
    let (whole, wholeFrames) = decode(stream, cap: cap, chunkSizes: [stream.count])
    fuzzCheck(whole == expected, "one read: \(whole) != model \(expected)")

    var random = FuzzRandom(seed: UInt64(control >> 2) &* 0x9E37_79B9 &+ UInt64(stream.count))
    var chunkSizes: [Int] = []
    var remaining = stream.count
    while remaining > 0 {
      let size = min(remaining, 1 + random.next(below: random.next(below: 4) == 0 ? 64 : 9))
      chunkSizes.append(size)
      remaining -= size
    }
    let (chunked, _) = decode(stream, cap: cap, chunkSizes: chunkSizes)
    fuzzCheck(chunked == expected, "chunked reads \(chunkSizes): \(chunked) != model \(expected)")
    // Through the channel in coarser reads (each is a trip through the pipeline): whole, or 1...256 bytes.
    var reads: [Int] = []
    remaining = stream.count
    while remaining > 0 {
      let size = control & 0x80 == 0 ? remaining : min(remaining, 1 + random.next(below: 256))
      reads.append(size)
      remaining -= size
    }
    let pipeline = decodeInChannel(stream, cap: cap, chunkSizes: reads)
    fuzzCheck(
      pipeline.frames == expected.frames && pipeline.invalidLength == expected.invalidLength,
      "ByteToMessageHandler: \(pipeline) != model \(expected)")

    for frame in wholeFrames.prefix(framesChecked) {
      checkRequest(frame)
      checkResponse(frame)
    }
  }

  /// The framing rules, written out independently of the decoder.
  static func model(_ stream: UnsafeBufferPointer<UInt8>, cap: Int) -> Outcome {
    var outcome = Outcome()
    var index = 0
    while stream.count - index >= 4 {
      let length = stream[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      if length == 0 || Int(length) > cap {
        outcome.invalidLength = length
        return outcome
      }
      guard stream.count - index - 4 >= Int(length) else { break }
      outcome.frames.append(Array(stream[(index + 4)..<(index + 4 + Int(length))]))
      index += 4 + Int(length)
    }
    outcome.leftover = stream.count - index
    return outcome
  }

  /// Feeds `stream` to a decoder in reads of `chunkSizes`, the way ByteToMessageHandler does: append to one
  /// cumulation buffer, take frames until the decoder wants more, compact the buffer now and then.
  static func decode(_ stream: UnsafeBufferPointer<UInt8>, cap: Int, chunkSizes: [Int]) -> (Outcome, [ByteBuffer]) {
    var decoder = WireFrameDecoder(maxFrameBytes: cap)
    var buffer = ByteBufferAllocator().buffer(capacity: 0)
    var outcome = Outcome()
    var frames: [ByteBuffer] = []
    var offset = 0
    for (read, size) in chunkSizes.enumerated() {
      buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: stream[offset..<offset + size])))
      offset += size
      while let frame = decoder.next(&buffer) {
        switch frame {
        case .message(let body):
          fuzzCheck(outcome.invalidLength == nil, "a frame after an invalid length")
          fuzzCheck(body.readableBytes > 0 && body.readableBytes <= cap, "frame of \(body.readableBytes) bytes")
          frames.append(body)
        case .invalidLength(let length):
          fuzzCheck(outcome.invalidLength == nil, "a second invalid length \(length)")
          outcome.invalidLength = length
          fuzzCheck(buffer.readableBytes == 0, "bytes kept after an invalid length")
        }
      }
      if read % 2 == 1 { buffer.discardReadBytes() }
    }
    // decodeLast: a partial frame at EOF is dropped.
    outcome.leftover = buffer.readableBytes
    // Slices handed out earlier must not have been disturbed by later reads or compaction.
    outcome.frames = frames.map { Array($0.readableBytesView) }
    return (outcome, frames)
  }

  /// The server's own pipeline: ByteToMessageHandler(WireFrameDecoder) in an EmbeddedChannel, the reads as
  /// `chunkSizes`, then end of input (decodeLast): no error, nothing left over, no frame after an invalid length.
  static func decodeInChannel(_ stream: UnsafeBufferPointer<UInt8>, cap: Int, chunkSizes: [Int]) -> Outcome {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: cap)))
    var outcome = Outcome()
    func take() {
      while let frame = try? channel.readInbound(as: WireFrame.self) {
        switch frame {
        case .message(let body):
          fuzzCheck(outcome.invalidLength == nil, "pipeline: a frame after an invalid length")
          outcome.frames.append(Array(body.readableBytesView))
        case .invalidLength(let length):
          fuzzCheck(outcome.invalidLength == nil, "pipeline: a second invalid length \(length)")
          outcome.invalidLength = length
        }
      }
    }
    var offset = 0
    for size in chunkSizes {
      var chunk = channel.allocator.buffer(capacity: size)
      chunk.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: stream[offset..<offset + size])))
      offset += size
      do {
        try channel.writeInbound(chunk)
      } catch {
        fuzzCheck(false, "pipeline: the decoder threw \(error)")
      }
      take()
    }
    do {
      let left = try channel.finish()
      take()
      fuzzCheck(left.isClean, "pipeline: left over at the end: \(left)")
    } catch {
      fuzzCheck(false, "pipeline: finishing threw \(error)")
    }
    return outcome
  }

  static func checkRequest(_ frame: ByteBuffer) {
    let viaBuffer = try? WireRequest(frame: frame)
    let viaArray = try? WireRequest(serializedBytes: Array(frame.readableBytesView))
    fuzzCheck(viaBuffer == viaArray, "ByteBuffer and [UInt8] decoding of a Request disagree")
    guard let request = viaBuffer else {
      // The server answers an undecodable frame on id 0 and keeps the connection.
      roundTrip(WireResponse.failure(id: 0, WireStatus(.invalidArgument, "frame does not hold a decodable Request")))
      return
    }

    // RequestDispatcher.dispatch's envelope, before any session rule.
    let response: WireResponse
    if let call = request.call {
      let wireCall = WireCall(call)
      fuzzCheck(WireCall(named: wireCall.name) == wireCall, "WireCall(named: \(wireCall.name))")
      fuzzCheck(WireCall(named: wireCall.fieldName) == wireCall, "WireCall(named: \(wireCall.fieldName))")
      fuzzCheck(WireCall(named: wireCall.jsonName) == wireCall, "WireCall(named: \(wireCall.jsonName))")
      if request.id == 0 {
        response = .failure(id: 0, WireStatus(.invalidArgument, "request id 0 is reserved"))
      } else {
        var ok = WireResponse.ok(id: request.id)
        switch call {
        case .verifySession(let verify):
          ok.verifySession.reason = verify.accessToken.isEmpty ? "access_token is empty" : ""
        case .health:
          ok.health.serving = true
          ok.health.version = SidecarVersion.current
        default: break
        }
        response = ok
      }
    } else {
      let code: WireCode = request.unknownFields.data.isEmpty ? .invalidArgument : .unimplemented
      response = .failure(id: request.id, WireStatus(code, "no call"))
    }
    roundTrip(response)

    // The request itself: serialise and decode, and through its own frame.
    do {
      let encoded: [UInt8] = try request.serializedBytes()
      fuzzCheck(
        encoded.count <= frame.readableBytes, "re-encoding grew from \(frame.readableBytes) to \(encoded.count)")
      let again = try WireRequest(serializedBytes: encoded)
      fuzzCheck(again == request, "Request changed through serialise/decode")
      var framed = try request.framed()
      fuzzCheck(framed.readableBytes == encoded.count + 4, "framed() length")
      fuzzCheck(framed.getInteger(at: framed.readerIndex, as: UInt32.self) == UInt32(encoded.count), "framed() prefix")
      if encoded.isEmpty { return }  // an empty message frames as length 0, which readers refuse by design
      var decoder = WireFrameDecoder(maxFrameBytes: WireFraming.maxResponseBytes)
      guard case .message(let body) = decoder.next(&framed) else {
        return fuzzCheck(false, "framed() request does not decode as one frame")
      }
      fuzzCheck(Array(body.readableBytesView) == encoded, "framed() body differs from serializedBytes()")
      fuzzCheck(decoder.next(&framed) == nil && framed.readableBytes == 0, "bytes after a framed() message")
      let reread = try WireRequest(frame: body)
      fuzzCheck(reread == request, "Request changed through framed()")
    } catch {
      fuzzCheck(false, "a decoded Request failed to re-encode: \(error)")
    }
  }

  static func checkResponse(_ frame: ByteBuffer) {
    let viaBuffer = try? WireResponse(frame: frame)
    let viaArray = try? WireResponse(serializedBytes: Array(frame.readableBytesView))
    fuzzCheck(viaBuffer == viaArray, "ByteBuffer and [UInt8] decoding of a Response disagree")
    guard let response = viaBuffer else { return }
    fuzzCheck(!response.status.code.protoName.isEmpty, "status code without a name")
    roundTrip(response)
  }

  /// A response as the server writes it (framed()) and as a client reads it back.
  static func roundTrip(_ response: WireResponse) {
    do {
      var framed = try response.framed()
      let length = framed.getInteger(at: framed.readerIndex, as: UInt32.self) ?? 0
      fuzzCheck(Int(length) + 4 == framed.readableBytes, "framed() response prefix \(length)")
      if length == 0 { return }
      var decoder = WireFrameDecoder(maxFrameBytes: WireFraming.maxResponseBytes)
      guard case .message(let body) = decoder.next(&framed) else {
        return fuzzCheck(false, "framed() response does not decode as one frame")
      }
      let reread = try WireResponse(frame: body)
      fuzzCheck(reread == response, "Response changed through framed()")
    } catch {
      fuzzCheck(false, "a Response failed to encode or decode: \(error)")
    }
  }
}
