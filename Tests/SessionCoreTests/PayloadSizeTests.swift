import SessionCore
import SessionStorage
import Testing

/// A payload is accepted only if the session's next access token, signed for real, fits
/// sidecar.maxAccessTokenBytes: otherwise the session could never refresh again.
@Suite("The next access token's real size")
struct PayloadSizeTests {
  @Test func aPayloadTheNextTokenCannotCarryIsRefusedAndNothingIsStored() async throws {
    let h = try await SessionHarness(["sidecar.maxAccessTokenBytes": "2048"])
    // A long user id (255 bytes) with characters JSON must escape makes every token of the session larger.
    let created = try await h.create(userID: String(repeating: "\"", count: 255), antiCsrf: true)
    let before = try #require(try h.store.session(handle: created.handle))
    let tooBig = #"{"blob":""# + String(repeating: "y", count: 900) + #""}"#
    await #expect {
      try await h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: tooBig)
    } throws: { error in
      guard case SessionError.invalidInput(let message) = error else { return false }
      return message.contains("sidecar.maxAccessTokenBytes")
    }
    #expect(try h.store.session(handle: created.handle) == before, "nothing stored")
    await #expect(throws: SessionError.self) {
      _ = try await h.service.regenerateAccessToken(accessToken: created.accessToken, payloadJSON: tooBig)
    }
    #expect(try h.store.session(handle: created.handle) == before, "nothing stored by regenerate either")

    let fits = #"{"role":"admin"}"#
    try await h.service.updateAccessTokenPayload(handle: created.handle, payloadJSON: fits)
    let csrf = try #require(created.issued.antiCsrfToken)
    let next = try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: csrf)
    #expect(refreshed(next)?.accessToken != nil, "the session still refreshes")
  }
}
