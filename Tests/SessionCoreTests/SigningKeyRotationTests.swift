import SessionCore
import SessionStorage
import SessionToken
import Testing

/// Two sidecars rotating keys on one store, driven through many short slots by a test clock.
@Suite("SigningKeyRotation")
struct SigningKeyRotationTests {
  /// 10 s slots, 3 s tokens, published 1 s before use, made 3 s ahead, kept 0.5 s past the last token.
  static let policy = SigningKeyPolicy(
    intervalMs: 10_000, accessTokenValidityMs: 3_000, publishLeadMs: 1_000, prepareAheadMs: 3_000,
    retentionMarginMs: 500)

  struct Sidecar {
    let ring: SigningKeyRing
    let rotation: SigningKeyRotation

    init(store: InMemorySessionStore, clock: TestClock, policy: SigningKeyPolicy = SigningKeyRotationTests.policy)
      async throws
    {
      ring = SigningKeyRing(policy: policy)
      rotation = SigningKeyRotation(
        database: try await SessionDatabase.open(requestThreads: 1) { store }, ring: ring, sealer: PrivateKeySealer(),
        clock: clock, logger: quietLogger)
    }

    /// A token signed with the dynamic key the ring picks at `nowMs`, valid for the policy's token validity.
    func sign(at nowMs: Int64) throws -> (token: String, key: LoadedSigningKey) {
      let key = try #require(ring.signingKey(useStaticKey: false, at: nowMs))
      let iat = nowMs / 1000
      let claims = AccessTokenClaims(
        subject: "user-1", expiresAt: iat + ring.policy.accessTokenValidityMs / 1000, issuedAt: iat,
        sessionHandle: "handle", refreshTokenHash1: "hash1")
      let payload = try AccessTokenPayload.build(claims: claims, customJSON: "")
      return (try AccessTokenSigner.sign(payloadJSON: payload, kid: key.kid, key: key.privateKey), key)
    }
  }

  private func isValid(_ token: String, on ring: SigningKeyRing, at nowMs: Int64) -> Bool {
    if case .valid = AccessTokenVerifier().verify(token, keys: ring, nowMs: nowMs) { return true }
    return false
  }

  @Test func twoSidecarsShareOneKeyPerSlotAndAlwaysVerifyEachOther() async throws {
    let store = InMemorySessionStore()
    let clock = TestClock(nowMs: 1_700_000_005_000)
    let a = try await Sidecar(store: store, clock: clock)
    let b = try await Sidecar(store: store, clock: clock)
    try await a.rotation.synchronize()
    try await b.rotation.synchronize()
    let firstKid = try #require(a.ring.signingKey(useStaticKey: false, at: clock.nowMs())).kid

    var live: [(token: String, expiresAtMs: Int64)] = []
    let step: Int64 = 250
    for tick in 0..<400 {
      clock.advance(byMs: step)
      let now = clock.nowMs()
      if tick % 3 == 0 { try await a.rotation.synchronize() }
      if tick % 4 == 1 { try await b.rotation.synchronize() }

      for (signer, other) in [(a, b), (b, a)] {
        let (token, key) = try signer.sign(at: now)
        if key.kid != firstKid {
          #expect(
            key.createdAtMs + Self.policy.publishLeadMs <= now,
            "\(key.kid) signs at \(now), only \(now - key.createdAtMs) ms after it was made")
        }
        #expect(try store.signingKeys().contains { $0.kid == key.kid }, "\(key.kid) signs but is not in the store")
        #expect(isValid(token, on: other.ring, at: now), "token by \(key.kid) does not verify on the other sidecar")
        live.append((token, (now / 1000 + Self.policy.accessTokenValidityMs / 1000) * 1000))
      }
      live.removeAll { $0.expiresAtMs <= now }
      for (token, _) in live {
        #expect(
          isValid(token, on: a.ring, at: now) && isValid(token, on: b.ring, at: now), "live token refused at \(now)")
      }
    }

    let dynamic = try store.signingKeys().filter { $0.kind == .dynamic }
    let slots = dynamic.map(\.slotStartMs)
    #expect(Set(slots).count == slots.count, "more than one key for a slot: \(slots)")
    let first = try #require(slots.min())
    let last = try #require(slots.max())
    #expect(Array(stride(from: first, through: last, by: 10_000)) == slots.sorted(), "a slot has no key: \(slots)")
    #expect(last - first >= 10 * 10_000)
    #expect(try store.signingKeys().filter { $0.kind == .static }.count == 1)
    #expect(a.ring.snapshot.keys.map(\.kid).sorted() == b.ring.snapshot.keys.map(\.kid).sorted())
  }

  @Test func aSlotTakenByAnotherSidecarIsNotMadeAgain() async throws {
    let store = InMemorySessionStore()
    let clock = TestClock(nowMs: 1_700_000_005_000)
    let a = try await Sidecar(store: store, clock: clock)
    let b = try await Sidecar(store: store, clock: clock)
    try await a.rotation.synchronize()
    let slot = Self.policy.slotStart(containing: clock.nowMs())
    #expect(try await b.rotation.create(kind: .dynamic, slotStartMs: slot, nowMs: clock.nowMs() + 1) == false)
    #expect(try store.signingKeys().filter { $0.slotStartMs == slot }.count == 1)
  }

  @Test func freshDatabaseNearASlotBoundaryGetsBothKeysInOneRound() async throws {
    // 2 s before a boundary, inside the 3 s prepare-ahead: the current and the next slot both need keys.
    let store = InMemorySessionStore()
    let clock = TestClock(nowMs: 1_700_000_008_000)
    let a = try await Sidecar(store: store, clock: clock)
    try await a.rotation.synchronize()
    let slots = try store.signingKeys().filter { $0.kind == .dynamic }.map(\.slotStartMs)
    #expect(slots == [1_700_000_000_000, 1_700_000_010_000])
    let kids = try store.signingKeys().map(\.kid)
    #expect(Set(kids).count == kids.count)
  }

  @Test func expiredKeysLeaveTheRingAndPublishedSetListsEveryKey() async throws {
    let store = InMemorySessionStore()
    let clock = TestClock(nowMs: 1_700_000_005_000)
    let a = try await Sidecar(store: store, clock: clock)
    try await a.rotation.synchronize()
    let first = try #require(a.ring.signingKey(useStaticKey: false, at: clock.nowMs()))
    #expect(first.expiresAtMs == Self.policy.expiry(ofSlotStartingAt: first.slotStartMs))
    let published = a.ring.published(at: clock.nowMs())
    let set = try JWKSet(json: published.jwksJSON)
    #expect(set.keys.map(\.kid).sorted() == a.ring.snapshot.keys.map(\.kid).sorted())
    #expect(published.cacheMaxAgeSeconds >= 1)

    // Past the first key's expiry (syncing each slot so the successors exist), it is gone from the ring.
    while clock.nowMs() < first.expiresAtMs {
      clock.advance(byMs: 2_000)
      try await a.rotation.synchronize()
    }
    #expect(a.ring.verificationKey(kid: Substring(first.kid)) == nil)
    #expect(a.ring.snapshot.keys.contains { $0.kind == .static })
    #expect(a.ring.snapshot.generation > published.generation)
  }

  @Test func staticKeyIsMadeOncePerDatabase() async throws {
    let store = InMemorySessionStore()
    let clock = TestClock(nowMs: 1_700_000_005_000)
    try await Sidecar(store: store, clock: clock).rotation.synchronize()
    let b = try await Sidecar(store: store, clock: clock)
    try await b.rotation.synchronize()
    let statics = try store.signingKeys().filter { $0.kind == .static }
    #expect(statics.count == 1)
    let key = try #require(b.ring.signingKey(useStaticKey: true, at: clock.nowMs()))
    #expect(key.kid == statics[0].kid)
    #expect(key.kid.hasPrefix("s-"))
    #expect(key.slotStartMs == 0)
    #expect(key.expiresAtMs == Int64.max)
  }
}

@Suite("Replacing the static key")
struct StaticKeyReplacementTests {
  @Test func theNewKeySignsAndTheOldOneVerifiesUntilItsLastTokenExpires() async throws {
    let h = try await SessionHarness(["tokens.accessToken.validity": "600"])
    let old = try await h.create(staticKey: true)
    let oldKid = try #require(h.kid(of: old.accessToken))
    let newKid = try await h.rotation.replaceStaticKey(nowMs: h.clock.nowMs(), accessTokenValidityMs: 600_000)
    try await h.rotation.synchronize()
    #expect(newKid != oldKid)
    let fresh = try await h.create(staticKey: true)
    #expect(h.kid(of: fresh.accessToken) == newKid, "the new static key signs")
    #expect(verifiedView(h.verify(old.accessToken)) != nil, "the old key's tokens still verify")
    #expect(h.service.keyRing.published(at: h.clock.nowMs()).keys.contains { $0.kid == oldKid }, "still published")
    let stored = try #require(try h.store.signingKeys().first { $0.kid == oldKid })
    #expect(stored.expiresAtMs <= h.clock.nowMs() + 600_000 + SessionRecord.revocationMarginMs)
    #expect(stored.expiresAtMs >= old.issued.accessToken!.expiresAtMs, "never before its last token expires")
  }
}
