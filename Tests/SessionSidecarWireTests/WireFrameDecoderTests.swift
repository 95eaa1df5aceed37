import NIOCore
import NIOEmbedded
import NIOTestUtils
import SessionSidecarWire
import Testing

@Suite("WireFrameDecoder")
struct WireFrameDecoderTests {
  private static func frame(_ body: [UInt8]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(body.count))
    buffer.writeBytes(body)
    return buffer
  }

  /// NIO's verifier feeds every input whole, byte by byte and in random chunks, and checks the same frames
  /// come out each time with nothing left over.
  @Test func framesSurviveEverySplitOfTheStream() throws {
    let bodies: [[UInt8]] = [[1], Array(repeating: 7, count: 300), [0, 255, 0], Array(0..<64)]
    var stream = ByteBuffer()
    for body in bodies { stream.writeImmutableBuffer(Self.frame(body)) }
    try ByteToMessageDecoderVerifier.verifyDecoder(
      inputOutputPairs: [
        (Self.frame([42]), [.message(ByteBuffer(bytes: [42]))]),
        (stream, bodies.map { .message(ByteBuffer(bytes: $0)) }),
      ],
      decoderFactory: { WireFrameDecoder(maxFrameBytes: 1024) })
  }

  @Test(arguments: [UInt32(0), 1025, UInt32.max])
  func aLengthOutsideTheCapIsReportedOnceBeforeAnyBodyIsBuffered(length: UInt32) throws {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: 1024)))
    var bytes = ByteBuffer()
    bytes.writeInteger(length)
    bytes.writeBytes([1, 2, 3])
    try channel.writeInbound(bytes)
    #expect(try channel.readInbound(as: WireFrame.self) == .invalidLength(length))
    // Everything after the bad prefix is dropped: the stream cannot be resynchronised.
    try channel.writeInbound(Self.frame([9]))
    #expect(try channel.readInbound(as: WireFrame.self) == nil)
    _ = try channel.finish()
  }

  @Test func aPartialFrameWaitsAndIsDroppedAtTheEnd() throws {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(maxFrameBytes: 1024)))
    var partial = ByteBuffer()
    partial.writeInteger(UInt32(10))
    partial.writeBytes([1, 2, 3])
    try channel.writeInbound(partial)
    #expect(try channel.readInbound(as: WireFrame.self) == nil)
    #expect(try channel.finish().isClean)
  }

  @Test func aMessageRoundTripsThroughItsFrame() throws {
    var request = WireRequest()
    request.id = 7
    request.verifySession.accessToken = "header.payload.signature"
    var framed = try request.framed()
    var decoder = WireFrameDecoder(maxFrameBytes: 1 << 20)
    guard case .message(let body) = decoder.next(&framed) else {
      Issue.record("no frame decoded")
      return
    }
    #expect(try WireRequest(frame: body) == request)
    #expect(framed.readableBytes == 0)
  }
}

@Suite("WireCall")
struct WireCallTests {
  @Test func namesFollowTheProto() {
    #expect(WireCall.allCases.count == 12)
    #expect(WireCall.createSession.name == "CreateSession")
    #expect(WireCall.updateAccessTokenPayload.fieldName == "update_access_token_payload")
    #expect(WireCall.watchSigningKeys.jsonName == "watchSigningKeys")
  }

  @Test(arguments: WireCall.allCases)
  func parsesItsRpcAndFieldNames(call: WireCall) {
    #expect(WireCall(named: call.name) == call)
    #expect(WireCall(named: call.fieldName) == call)
    #expect(WireCall(named: call.name.uppercased()) == call)
  }

  @Test func unknownNamesAreRefused() {
    #expect(WireCall(named: "DropDatabase") == nil)
    #expect(WireCall(named: "") == nil)
  }

  @Test func everyRequestCallMapsToItsName() throws {
    var request = WireRequest()
    request.health = .init()
    #expect(WireCall(try #require(request.call)) == .health)
    request.listSessions.userID = "u"
    #expect(WireCall(try #require(request.call)) == .listSessions)
  }
}
