import SessionCore
import SessionStorage
import Testing

/// A refresh whose answer never reached the client must not log the user out, and sidecars whose clocks
/// disagree must judge the grace period alike.
@Suite("Refresh is idempotent for the client, on one clock")
struct RefreshIdempotencyTests {
  @Test func aRetryAfterALostAnswerGetsTheSameTokenAndTheSessionLivesOn() async throws {
    let h = try await SessionHarness()
    let created = try await h.create()
    // The answer to this refresh is lost on its way to the client.
    let lost = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    h.clock.advance(byMs: 5_000)
    // The client retries with the token it still has.
    let retry = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    let newToken = try #require(retry.refreshToken?.token)
    #expect(newToken == lost.refreshToken?.token, "the retry gets the answer the first refresh gave")
    #expect(verifiedView(h.verify(try #require(retry.accessToken).token)) != nil)
    // Long after the grace period the client refreshes with what it received: no theft, a normal rotation.
    h.clock.advance(byMs: 600_000)
    let later = try #require(
      refreshed(try await h.service.refreshSession(refreshToken: newToken, antiCsrfToken: "")))
    #expect(later.refreshToken?.token != newToken)
    // A genuinely old token after the grace period is still theft.
    h.clock.advance(byMs: 600_000)
    let stolen = try await h.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
    #expect(stolen == .tokenTheftDetected(sessionHandle: created.handle, userID: "user-1"))
  }

  @Test func derivedTokensAreStableOnlyUnderTheSameKeys() {
    let family = Array(repeating: UInt8(7), count: 32)
    let handle = "0f3c2a9e-1111-4222-8333-944455556666"
    let a = RefreshToken.derive(sessionHandle: handle, familyKey: family, generation: 3, derivationKey: [1, 2, 3])
    #expect(
      a == RefreshToken.derive(sessionHandle: handle, familyKey: family, generation: 3, derivationKey: [1, 2, 3]))
    #expect(
      a != RefreshToken.derive(sessionHandle: handle, familyKey: family, generation: 4, derivationKey: [1, 2, 3]))
    #expect(a != RefreshToken.derive(sessionHandle: handle, familyKey: family, generation: 3, derivationKey: [9]))
    #expect(a != RefreshToken.derive(sessionHandle: handle, familyKey: family, generation: 3, derivationKey: nil))
    #expect(RefreshToken(parsing: a.text)?.isAuthentic(familyKey: family) == true)
  }

  /// Two tabs refresh through two sidecars whose clocks are two minutes apart (more than the 30 s grace).
  /// Measured on each sidecar's own clock, the second would look like reuse long after the grace: theft.
  /// Measured on the store's clock, it is inside the grace.
  @Test func skewedSidecarClocksDoNotTurnATwoTabRaceIntoTheft() async throws {
    let databaseClock = TestClock()
    let store = InMemorySessionStore(clock: { databaseClock.nowMs() })
    let a = try await SessionHarness(store: store, clock: TestClock(nowMs: databaseClock.nowMs()))
    let b = try await SessionHarness(store: store, clock: TestClock(nowMs: databaseClock.nowMs() + 120_000))
    let created = try await a.create()
    let first = try #require(
      refreshed(try await a.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")))
    databaseClock.advance(byMs: 1_000)
    let second = try await b.service.refreshSession(refreshToken: created.refreshToken, antiCsrfToken: "")
    #expect(refreshed(second)?.refreshToken?.token == first.refreshToken?.token, "inside the grace: \(second)")
  }
}
