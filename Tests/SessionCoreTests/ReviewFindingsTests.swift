import SessionCore
import SessionStorage
import Testing

@Suite("Tokens are never issued that the sidecar would refuse; new keys never log anyone out")
struct IssuedTokenLimitsTests {
  @Test func aPayloadThatWouldMakeAnOversizedTokenIsRefusedUpFront() async throws {
    let sidecar = try await SessionHarness()
    let big = #"{"blob":""# + String(repeating: "x", count: 14_000) + #""}"#
    await #expect(throws: SessionError.self) {
      _ = try await sidecar.service.createSession(CreateSessionInput(userID: "u", accessTokenPayloadJSON: big))
    }
    let created = try await sidecar.create()
    await #expect(throws: SessionError.self) {
      try await sidecar.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: big)
    }
    // A payload that fits still works, and its token verifies.
    let fits = #"{"blob":""# + String(repeating: "x", count: 8_000) + #""}"#
    let issued = try await sidecar.service.createSession(CreateSessionInput(userID: "u", accessTokenPayloadJSON: fits))
    guard case .ok = sidecar.verify(try #require(issued.accessToken).token) else {
      Issue.record("a token the sidecar issued does not verify")
      return
    }
  }

  @Test func aTokenSignedWithAKeyAnotherSidecarJustMadeAsksForARefresh() async throws {
    let a = try await SessionHarness()
    let b = try await a.sibling()
    // Both were down for two days: every key is past its signing window. A comes back first, makes the
    // current slot's key and signs with it at once (nothing older may sign); B has not run its key round yet.
    a.clock.advance(byMs: 48 * 3_600_000)
    try await a.rotation.synchronize()
    let created = try await a.create()
    guard case .ok = a.verify(created.accessToken) else {
      Issue.record("A does not verify its own token")
      return
    }
    switch b.verify(created.accessToken) {
    case .tryRefreshToken(let reason): #expect(reason.contains("not loaded yet"))
    case let other: Issue.record("expected TRY_REFRESH_TOKEN, got \(other)")
    }
    try await b.rotation.synchronize()
    guard case .ok = b.verify(created.accessToken) else {
      Issue.record("after its key round B verifies the token")
      return
    }
  }
}
