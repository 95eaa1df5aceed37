import Foundation
import SessionSidecarWire
import SidecarClient
import SwiftProtobuf
import Testing

@Suite("Hostile and malformed input on the socket")
struct BadInputTests {
  static func frame(_ body: [UInt8]) -> [UInt8] {
    let n = UInt32(body.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
  }

  @Test func zeroLengthFrameIsAnsweredAndTheConnectionClosed() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let bystander = try await sidecars[0].connect()
        let client = try await sidecars[0].connect()
        try await client.sendRaw([0, 0, 0, 0])
        let response = try await client.awaitResponse(id: 0)
        #expect(response.status.code == .invalidArgument)
        #expect(response.status.message.contains("zero"))
        // The server closes the connection; the client's next call opens a new one.
        await client.awaitConnectionClose()
        #expect(!client.isOpen)
        #expect(try await client.call(Call.health).health.serving)
        #expect(try await bystander.call(Call.health).health.serving)
        await bystander.close()
      }
    }
  }

  @Test func oversizedLengthIsRefusedBeforeReadingTheBody() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        try await client.sendRaw([0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        let response = try await client.awaitResponse(id: 0)
        #expect(response.status.code == .resourceExhausted)
        #expect(response.status.message.contains("exceeds the limit of 262144 bytes"))
        // The server closes the connection; the client's next call opens a new one.
        await client.awaitConnectionClose()
        #expect(!client.isOpen)
        #expect(try await client.call(Call.health).health.serving)
      }
    }
  }

  @Test func undecodableFramesAndUnknownCallsKeepTheConnection() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        // 0xFF is a field key with wire type 7, which does not exist.
        try await client.sendRaw(Self.frame([0xFF, 0xFF, 0xFF]))
        let garbage = try await client.awaitResponse(id: 0)
        #expect(garbage.status.code == .invalidArgument)
        #expect(garbage.status.message.contains("decodable"))

        // id 7, and field 99 (varint 1): a call this server does not know.
        try await client.sendRaw(Self.frame([0x08, 0x07, 0x98, 0x06, 0x01]))
        let unknown = try await client.awaitResponse(id: 7)
        #expect(unknown.status.code == .unimplemented)

        // id 8 and no call at all.
        try await client.sendRaw(Self.frame([0x08, 0x08]))
        let empty = try await client.awaitResponse(id: 8)
        #expect(empty.status.code == .invalidArgument)
        #expect(empty.status.message == "request names no call")

        #expect(try await client.call(Call.health).health.serving)
        await client.close()
      }
    }
  }

  @Test func pipelinedRequestsAllGetTheirOwnResponses() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db, adjust: { $0.sidecar.maxInFlightPerConnection = 4 }) {
        sidecars in
        let client = try await sidecars[0].connect()
        let token = try await client.call(Call.create(user: "p")).createSession.accessToken.token
        try await withThrowingTaskGroup(of: Bool.self) { group in
          for i in 0..<300 {
            group.addTask {
              // Mix inline (verify) and thread-pool (health, list) calls so responses come back out of order.
              switch i % 3 {
              case 0: return try await client.call(Call.verify(token)).verifySession.outcome == .ok
              case 1: return try await client.call(Call.health).health.serving
              default:
                var list = WireRequest()
                list.listSessions.userID = "p"
                return try await client.call(list).listSessions.sessionHandles.count == 1
              }
            }
          }
          var answered = 0
          for try await ok in group {
            #expect(ok)
            answered += 1
          }
          #expect(answered == 300)
        }
        await client.close()
      }
    }
  }
}

@Suite("Request ids")
struct RequestIDTests {
  @Test func idZeroIsReservedForConnectionErrors() async throws {
    try await InMemoryTestStore.with { db in
      try await withTestSidecar(store: db) { sidecars in
        let client = try await sidecars[0].connect()
        // id 0 (absent) and a Health call (field 21, length 0).
        try await client.sendRaw(BadInputTests.frame([0xAA, 0x01, 0x00]))
        let response = try await client.awaitResponse(id: 0)
        #expect(response.status.code == .invalidArgument)
        #expect(response.status.message.contains("id 0 is reserved"))
        #expect(try await client.call(Call.health).health.serving)
        await client.close()
      }
    }
  }
}
