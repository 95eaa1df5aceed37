import OpenSSLCrypto
import SessionCore
import SessionStorage
import Testing

@Suite("PrivateKeySealer")
struct PrivateKeySealerTests {
  static let pem = "-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n"

  private func record(_ sealed: (bytes: [UInt8], sealed: Bool), kid: String) -> SigningKeyRecord {
    SigningKeyRecord(
      kid: kid, kind: .dynamic, algorithm: "RS256", slotStartMs: 1, privateKey: sealed.bytes, sealed: sealed.sealed,
      publicKeyPEM: "", createdAtMs: 0, expiresAtMs: 1)
  }

  @Test func clearKeysRoundTrip() throws {
    let sealer = PrivateKeySealer()
    let stored = try sealer.seal(privateKeyPEM: Self.pem, kid: "d-1")
    #expect(!stored.sealed)
    #expect(stored.bytes == Array(Self.pem.utf8))
    #expect(try sealer.open(record(stored, kid: "d-1")) == Self.pem)
  }

  @Test func sealedKeysOpenOnlyUnderTheirKidAndKey() throws {
    let kek = SecureRandom.bytes(32)
    let sealer = try PrivateKeySealer(keyEncryptionKey: kek)
    #expect(sealer.sealsKeys)
    let stored = try sealer.seal(privateKeyPEM: Self.pem, kid: "d-1")
    #expect(stored.sealed)
    #expect(stored.bytes != Array(Self.pem.utf8))
    #expect(try sealer.open(record(stored, kid: "d-1")) == Self.pem)
    #expect(throws: SigningKeyError.doesNotOpen(kid: "d-2")) { try sealer.open(record(stored, kid: "d-2")) }
    #expect(throws: SigningKeyError.doesNotOpen(kid: "d-1")) {
      try PrivateKeySealer(keyEncryptionKey: SecureRandom.bytes(32)).open(record(stored, kid: "d-1"))
    }
    #expect(throws: SigningKeyError.sealedWithoutKeyEncryptionKey(kid: "d-1")) {
      try PrivateKeySealer().open(record(stored, kid: "d-1"))
    }
  }

  @Test(arguments: [0, 16, 31, 33])
  func keyEncryptionKeyMustBe32Bytes(count: Int) {
    #expect(throws: SigningKeyError.keyEncryptionKeyLength(count)) {
      try PrivateKeySealer(keyEncryptionKey: SecureRandom.bytes(count))
    }
  }

  @Test func rotationStoresSealedKeysThatOnlyAKeyHolderLoads() async throws {
    let store = InMemorySessionStore()
    let database = try await SessionDatabase.open(requestThreads: 1) { store }
    let clock = TestClock()
    let policy = SigningKeyPolicy(intervalMs: 86_400_000, accessTokenValidityMs: 3_600_000)
    let kek = SecureRandom.bytes(32)
    let ring = SigningKeyRing(policy: policy)
    try await SigningKeyRotation(
      database: database, ring: ring, sealer: try PrivateKeySealer(keyEncryptionKey: kek), clock: clock,
      logger: quietLogger
    ).synchronize()
    #expect(try store.signingKeys().allSatisfy(\.sealed))
    #expect(ring.signingKey(useStaticKey: false, at: clock.nowMs()) != nil)

    let blind = SigningKeyRing(policy: policy)
    try await SigningKeyRotation(
      database: database, ring: blind, sealer: PrivateKeySealer(), clock: clock, logger: quietLogger
    ).synchronize()
    #expect(blind.snapshot.keys.isEmpty)
  }
}

@Suite("Keys stored in clear are sealed once a key-encryption key is configured")
struct SealingOnStartTests {
  @Test func aRoundWithAKeyEncryptionKeySealsEveryClearKeyAndKeepsThemUsable() async throws {
    let store = InMemorySessionStore()
    let database = try await SessionDatabase.open(requestThreads: 1) { store }
    let clock = TestClock()
    let policy = SigningKeyPolicy(intervalMs: 86_400_000, accessTokenValidityMs: 3_600_000)
    try await SigningKeyRotation(
      database: database, ring: SigningKeyRing(policy: policy), sealer: PrivateKeySealer(), clock: clock,
      logger: quietLogger
    ).synchronize()
    #expect(try store.signingKeys().allSatisfy { !$0.sealed })
    let kids = try store.signingKeys().map(\.kid)

    let ring = SigningKeyRing(policy: policy)
    try await SigningKeyRotation(
      database: database, ring: ring, sealer: try PrivateKeySealer(keyEncryptionKey: SecureRandom.bytes(32)),
      clock: clock, logger: quietLogger
    ).synchronize()
    let stored = try store.signingKeys()
    #expect(stored.map(\.kid) == kids, "the same keys, not new ones")
    #expect(stored.allSatisfy { $0.sealed })
    #expect(stored.allSatisfy { !String(decoding: $0.privateKey, as: UTF8.self).contains("PRIVATE KEY") })
    #expect(ring.signingKey(useStaticKey: false, at: clock.nowMs()) != nil)
  }
}
