import GRPCCore
import SessionCore
import SessionSidecarWire
import Testing

@testable import SidecarGRPC
@testable import SidecarServer

@Suite("gRPC status mapping")
struct GRPCStatusMappingTests {
  /// The wire's codes are gRPC's numbers: the mapping must keep every one (and never turn an error into OK).
  @Test(arguments: WireCode.allCases.filter { $0 != .ok })
  func wireCodeKeepsItsNumber(_ code: WireCode) {
    #expect(GRPCStatusMapping.code(code).rawValue == code.rawValue)
  }

  @Test func okAndUnknownCodesAreInternal() {
    #expect(GRPCStatusMapping.code(.ok) == .internalError)
    #expect(GRPCStatusMapping.code(.UNRECOGNIZED(99)) == .internalError)
  }

  /// Domain errors reach a gRPC client with the code the socket gives them, and their message.
  @Test(arguments: [
    (SessionError.invalidInput("user_id is empty"), RPCError.Code.invalidArgument),
    (.sessionNotFound, .notFound),
    (.invalidAccessToken(reason: "expired"), .unauthenticated),
    (.signingFailed("no key"), .internalError),
    (.noSigningKey, .unavailable),
    (.databaseUnavailable("down"), .unavailable),
    (.databaseFailed("broken"), .internalError),
    (.limitReached(.queuedDatabaseCalls(limit: 1)), .resourceExhausted),
  ])
  func sessionErrorBecomesGRPCStatus(_ error: SessionError, _ expected: RPCError.Code) throws {
    let response = WireResponse.failure(id: 1, WireStatus(error))
    let thrown = #expect(throws: RPCError.self) {
      try GRPCStatusMapping.result(of: response) { $0.createSession }
    }
    #expect(thrown?.code == expected)
    #expect(thrown?.message == error.description)
  }

  @Test func okResponseGivesItsResult() throws {
    var response = WireResponse.ok(id: 1)
    response.listSessions.sessionHandles = ["h1"]
    #expect(try GRPCStatusMapping.result(of: response) { $0.listSessions.sessionHandles } == ["h1"])
  }

  @Test func extAuthzCodes() {
    #expect(GRPCStatusMapping.extAuthzCode(.allow(userID: "u", handle: "h", payloadBase64URL: "e30")) == 0)
    #expect(GRPCStatusMapping.extAuthzCode(.tryRefreshToken) == 16)
    #expect(GRPCStatusMapping.extAuthzCode(.unauthorised) == 16)
  }
}
