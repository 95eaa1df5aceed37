import SessionCore
import SessionStorage
import SessionToken
import Testing

/// The cache must never accept a token the uncached path would refuse: one stream of valid, expired, revoked,
/// tampered, anti-CSRF and retired-key tokens goes through a sidecar with the cache and one without, on the same
/// store and clock, and every answer must match.
@Suite("Verified-token cache")
struct VerifiedTokenCacheTests {
  @Test func cachedAndUncachedAnswersAreTheSameForEveryKindOfToken() async throws {
    let settings = [
      "tokens.accessToken.blacklisting": "true", "tokens.accessToken.validity": "60",
      "tokens.accessToken.signingKey.updateInterval": "1",
    ]
    let cached = try await SessionHarness(settings)
    let uncached = try await cached.sibling(settings.merging(["sidecar.verifyCache.maxEntries": "0"]) { $1 })
    #expect(cached.service.verifiedTokens != nil)
    #expect(uncached.service.verifiedTokens == nil)

    let plain = try await cached.create(userID: "plain")
    let csrf = try await cached.create(userID: "csrf", antiCsrf: true)
    let revoked = try await cached.create(userID: "revoked")
    let csrfToken = try #require(csrf.issued.antiCsrfToken)
    var tampered = Array(plain.accessToken.utf8)
    tampered[tampered.count - 5] =
      tampered[tampered.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    let tokens = [plain.accessToken, csrf.accessToken, revoked.accessToken, String(decoding: tampered, as: UTF8.self)]

    func compare(_ step: String) {
      for token in tokens {
        for (antiCsrf, check) in [("", false), ("", true), (csrfToken, true), ("wrong", true)] {
          // Twice on the cached side: the second answer comes from the cache.
          let first = cached.verify(token, antiCsrf: antiCsrf, checkAntiCsrf: check)
          let second = cached.verify(token, antiCsrf: antiCsrf, checkAntiCsrf: check)
          let reference = uncached.verify(token, antiCsrf: antiCsrf, checkAntiCsrf: check)
          #expect(first == reference, "\(step): first answer differs")
          #expect(second == reference, "\(step): cached answer differs")
        }
      }
    }
    compare("fresh")
    #expect((cached.service.verifiedTokens?.count ?? 0) >= 3)

    _ = try await cached.service.revokeSessions(handles: [revoked.handle])
    try cached.service.revocations.synchronize(from: cached.store, nowMs: cached.clock.nowMs())
    try uncached.service.revocations.synchronize(from: uncached.store, nowMs: uncached.clock.nowMs())
    compare("after a revocation")

    cached.clock.advance(byMs: 59_999)
    compare("a millisecond before expiry")
    cached.clock.advance(byMs: 1)
    compare("at expiry")

    // Hours later every key that signed these tokens is retired: the cached side must not keep saying OK.
    cached.clock.advance(byMs: 5 * 3_600_000)
    try await cached.rotation.synchronize()
    try await uncached.rotation.synchronize()
    compare("after the signing key was retired")
  }

  /// A JWS-shaped token whose payload segment decodes (a hit decodes the payload from the token again).
  private func token(_ index: Int, payload: String = #"{"n":1}"#) -> String {
    "eyJhbGciOiJSUzI1NiJ9.\(Base64URL.encode(Array(payload.utf8))).sig-\(index)"
  }

  @Test func theCacheIsBoundedByEntriesAndBytes() {
    let cache = VerifiedTokenCache(maxEntries: 160, maxBytes: 1 << 20)
    for index in 0..<2_000 {
      cache.insert(
        token(index), kid: "d-1", sessionHandle: "h", userID: "u", antiCsrfToken: nil, expiresAtMs: .max)
    }
    #expect(cache.count <= 160)
    #expect(cache.lookup(token(1999), nowMs: 0) != nil, "the newest stay")
    #expect(cache.lookup(token(0), nowMs: 0) == nil, "the oldest go first")
    #expect(cache.lookup(token(19990), nowMs: 0) == nil)
    let small = VerifiedTokenCache(maxEntries: 1_000_000, maxBytes: 16 * 4096)
    for index in 0..<10_000 {
      small.insert(
        token(index), kid: "k", sessionHandle: "h", userID: String(repeating: "u", count: 1000), antiCsrfToken: nil,
        expiresAtMs: .max)
    }
    #expect(small.count < 100, "bytes bound the cache too")
  }

  /// maxEntries tokens fit, however they spread over the shards: a working set of exactly that size cycles with
  /// no miss (a bound per shard made the fullest shards evict, and then miss on every pass).
  @Test func aWorkingSetOfMaxEntriesStaysWhole() {
    let cache = VerifiedTokenCache(maxEntries: 1_000, maxBytes: 1 << 24)
    for index in 0..<1_000 {
      cache.insert(token(index), kid: "k", sessionHandle: "h", userID: "u", antiCsrfToken: nil, expiresAtMs: .max)
    }
    #expect(cache.count == 1_000)
    let held = (0..<1_000).filter { cache.lookup(token($0), nowMs: 0) != nil }.count
    #expect(held == 1_000)
    cache.insert(token(1_000), kid: "k", sessionHandle: "h", userID: "u", antiCsrfToken: nil, expiresAtMs: .max)
    #expect(cache.count == 1_000, "one more pushes one out")
    #expect(cache.lookup(token(1_000), nowMs: 0) != nil)
  }

  /// A hit gives back every fact as inserted, and the payload as the token carries it.
  @Test func aHitGivesBackTheFactsAndThePayloadOfTheToken() throws {
    let cache = VerifiedTokenCache(maxEntries: 16, maxBytes: 1 << 20)
    let payload = #"{"sub":"ü-user","sessionHandle":"h-1","antiCsrfToken":"c","x":"\u00e9"}"#
    let text = token(1, payload: payload)
    cache.insert(
      text, kid: "d-7", sessionHandle: "h-1", userID: "ü-user", antiCsrfToken: "c", expiresAtMs: 1_000)
    let hit = try #require(cache.lookup(text, nowMs: 999))
    #expect(hit.kid == "d-7" && hit.sessionHandle == "h-1" && hit.userID == "ü-user")
    #expect(hit.antiCsrfToken == "c" && hit.expiresAtMs == 1_000)
    #expect(hit.payloadJSON == payload)
    #expect(cache.lookup(text, nowMs: 1_000) == nil, "expired at its exp")

    let plain = token(2)
    cache.insert(plain, kid: "", sessionHandle: "h-2", userID: "", antiCsrfToken: nil, expiresAtMs: .max)
    let second = try #require(cache.lookup(plain, nowMs: 0))
    #expect(second.kid == "" && second.sessionHandle == "h-2" && second.userID == "" && second.antiCsrfToken == nil)
    #expect(second.payloadJSON == #"{"n":1}"#)
    #expect(cache.lookup(plain + "x", nowMs: 0) == nil, "another byte string never maps to the entry")
  }
}
