import OpenSSLCrypto
import SessionCore
import SessionStorage
import SessionToken
import Testing

@Suite("RefreshTokenRotation")
struct RefreshTokenRotationTests {
  let rotation = RefreshTokenRotation(gracePeriodMs: 30_000)
  let now: Int64 = 1_700_000_000_000
  let handle = RandomIdentifier.uuid()
  let familyKey = SecureRandom.bytes(32)

  /// A session whose current token is `current`, rotated from `previous` at `rotatedAtMs`.
  private func session(
    current: RefreshToken, previous: RefreshToken? = nil, rotatedAtMs: Int64? = nil, expiresAtMs: Int64? = nil
  ) -> SessionRecord {
    SessionRecord(
      handle: handle, userID: "user-1", refreshTokenHash2: current.hash2, previousRefreshTokenHash2: previous?.hash2,
      rotatedAtMs: rotatedAtMs, tokenFamilyKey: familyKey, sessionDataJSON: "{}", accessTokenPayloadJSON: "{}",
      antiCsrfToken: nil, useStaticKey: false, createdAtMs: now - 100_000, expiresAtMs: expiresAtMs ?? now + 3_600_000)
  }

  private func issue() -> RefreshToken { RefreshToken.issue(sessionHandle: handle, familyKey: familyKey) }

  @Test func currentTokenRotates() {
    let token = issue()
    #expect(rotation.decide(session: session(current: token), presented: token, nowMs: now) == .rotate)
  }

  @Test(arguments: [Int64(0), 1, 29_999, 30_000])
  func previousTokenInsideGraceIsAccepted(elapsed: Int64) {
    let (old, new) = (issue(), issue())
    let record = session(current: new, previous: old, rotatedAtMs: now - elapsed)
    #expect(rotation.decide(session: record, presented: old, nowMs: now) == .acceptPreviousInGrace)
  }

  @Test(arguments: [Int64(30_001), 60_000, 3_000_000])
  func previousTokenAfterGraceIsTheft(elapsed: Int64) {
    let (old, new) = (issue(), issue())
    let record = session(current: new, previous: old, rotatedAtMs: now - elapsed)
    #expect(rotation.decide(session: record, presented: old, nowMs: now) == .theftDetected)
  }

  @Test func zeroGraceMakesAnyReuseTheftExceptAtTheSameInstant() {
    let strict = RefreshTokenRotation(gracePeriodMs: 0)
    let (old, new) = (issue(), issue())
    #expect(
      strict.decide(session: session(current: new, previous: old, rotatedAtMs: now - 1), presented: old, nowMs: now)
        == .theftDetected)
  }

  @Test func olderGenuineTokenIsTheft() {
    let (oldest, old, new) = (issue(), issue(), issue())
    let record = session(current: new, previous: old, rotatedAtMs: now - 1)
    #expect(rotation.decide(session: record, presented: oldest, nowMs: now) == .theftDetected)
  }

  @Test func forgedTokenNamingARealHandleIsRejectedNotTheft() throws {
    let forgedText =
      handle + "." + Base64URL.encode(SecureRandom.bytes(32)) + "." + Base64URL.encode(SecureRandom.bytes(16))
    let forged = try #require(RefreshToken(parsing: forgedText))
    #expect(forged.sessionHandle == handle)
    let record = session(current: issue(), previous: issue(), rotatedAtMs: now - 100_000)
    #expect(rotation.decide(session: record, presented: forged, nowMs: now) == .reject(reason: "invalid refresh token"))
  }

  @Test func tokenOfAnotherSessionFamilyIsRejected() {
    let foreign = RefreshToken.issue(sessionHandle: handle, familyKey: SecureRandom.bytes(32))
    let record = session(current: issue())
    #expect(
      rotation.decide(session: record, presented: foreign, nowMs: now) == .reject(reason: "invalid refresh token"))
  }

  @Test(arguments: [Int64(0), 1, 1_000_000])
  func expiredSessionIsRejected(pastExpiry: Int64) {
    let token = issue()
    let record = session(current: token, expiresAtMs: now - pastExpiry)
    #expect(rotation.decide(session: record, presented: token, nowMs: now) == .reject(reason: "refresh token expired"))
  }

  @Test func missingSessionIsRejected() {
    guard case .reject = rotation.decide(session: nil, presented: issue(), nowMs: now) else {
      Issue.record("a missing session must be rejected")
      return
    }
  }

  @Test func issuedTokenParsesAndIsAuthentic() throws {
    let token = issue()
    let parsed = try #require(RefreshToken(parsing: token.text))
    #expect(parsed.sessionHandle == handle)
    #expect(parsed.isAuthentic(familyKey: familyKey))
    #expect(!parsed.isAuthentic(familyKey: SecureRandom.bytes(32)))
    #expect(parsed.hash1 == token.hash1)
    #expect(parsed.hash2 == RefreshToken.hash2(ofHash1: token.hash1))
  }

  @Test(arguments: ["", "abc", "a.b.c", "not-a-handle-but-36-characters-long!.AAAA.AAAA"])
  func malformedTokensDoNotParse(text: String) {
    #expect(RefreshToken(parsing: text) == nil)
  }
}
