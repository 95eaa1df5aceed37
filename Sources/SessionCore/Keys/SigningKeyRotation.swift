import Logging
import OpenSSLCrypto
import SessionStorage
import Synchronization

/// Keeps the key ring in step with the database: makes the keys the policy says are due (exactly one per
/// slot however many sidecars try, because the slot is a unique key in the store), makes the static key once
/// per database, and loads every key any sidecar made. Runs at start and then every few seconds, on the
/// database's background lane (RSA key generation included).
public final class SigningKeyRotation: Sendable {
  private let database: SessionDatabase
  private let ring: SigningKeyRing
  private let sealer: PrivateKeySealer
  private let clock: any WallClock
  private let logger: Logger
  private let userKeyFile: UserSigningKeyFile?
  /// One round at a time: a slower round that read older rows must not install its key set over a newer one.
  private let round = Mutex(())

  public init(
    database: SessionDatabase, ring: SigningKeyRing, sealer: PrivateKeySealer, clock: any WallClock, logger: Logger,
    userKeyFile: UserSigningKeyFile? = nil
  ) {
    self.userKeyFile = userKeyFile
    self.database = database
    self.ring = ring
    self.sealer = sealer
    self.clock = clock
    self.logger = logger
  }

  /// One round: create what is due, then load everything that is not expired.
  public func synchronize() async throws {
    try await database.run(on: .background) { [self] store in try round.withLock { _ in try synchronize(store) } }
  }

  /// Makes a key for `slotStartMs` and stores it; false when another sidecar got there first.
  @discardableResult
  public func create(kind: SigningKeyKind, slotStartMs: Int64, nowMs: Int64) async throws -> Bool {
    try await database.run(on: .background) { [self] store in
      try create(kind: kind, slotStartMs: slotStartMs, nowMs: nowMs, in: store)
    }
  }

  /// Replaces the static key: a new one signs from now on; the old one stays published (and verifies) until
  /// the last token it could have signed has expired, then cleanup deletes it. Returns the new kid.
  public func replaceStaticKey(nowMs: Int64, accessTokenValidityMs: Int64) async throws -> String {
    try await database.run(on: .background) { [self] store in
      let old = try store.signingKeys().filter { $0.kind == .static && $0.expiresAtMs == Int64.max }
      // A static key's slot only has to be unique: the replacement takes minus its creation time.
      guard try create(kind: .static, slotStartMs: -nowMs, nowMs: nowMs, in: store) else {
        throw StoreError.duplicate("a static key was made at this millisecond; try again")
      }
      for key in old {
        _ = try store.expireSigningKey(
          kid: key.kid, atMs: nowMs + accessTokenValidityMs + SessionRecord.revocationMarginMs)
      }
      guard let made = try store.signingKeys().first(where: { $0.kind == .static && $0.slotStartMs == -nowMs }) else {
        throw StoreError.failed("the new static key is missing")
      }
      return made.kid
    }
  }

  private func synchronize(_ store: any SessionStore) throws {
    let now = clock.nowMs()
    var records = try store.signingKeys()
    var created = false
    if !records.contains(where: { $0.kind == .static }) {
      created = try create(kind: .static, slotStartMs: 0, nowMs: now, in: store) || created
    }
    // Each key made in this round gets its own creation millisecond, so kids (`d-<createdAtMs>`) never collide.
    var createdAt = now
    for slot in ring.policy.slotsNeedingKeys(at: now) where !records.contains(where: { $0.slotStartMs == slot }) {
      created = try create(kind: .dynamic, slotStartMs: slot, nowMs: createdAt, in: store) || created
      createdAt += 1
    }
    if created { records = try store.signingKeys() }
    // With a key-encryption key, keys stored in clear (made before it was configured) are sealed now, never
    // left in clear or used silently.
    if sealer.sealsKeys {
      var sealedAny = false
      for record in records where !record.sealed {
        let sealed = try sealer.seal(privateKeyPEM: String(decoding: record.privateKey, as: UTF8.self), kid: record.kid)
        if try store.sealSigningKey(kid: record.kid, sealedPrivateKey: sealed.bytes) {
          logger.notice("signing key stored in clear was sealed", metadata: ["kid": "\(record.kid)"])
          sealedAny = true
        }
      }
      if sealedAny { records = try store.signingKeys() }
    }

    var opened: [(record: SigningKeyRecord, privateKeyPEM: String)] = []
    for record in records where record.expiresAtMs > now {
      do {
        opened.append((record, try sealer.open(record)))
      } catch {
        logger.error("signing key cannot be used", metadata: ["kid": "\(record.kid)", "reason": "\(error)"])
      }
    }
    var userSupplied: [LoadedSigningKey] = []
    if let userKeyFile {
      do {
        if try userKeyFile.reload(nowMs: now) {
          logger.info("signing key file loaded", metadata: ["path": "\(userKeyFile.path)"])
        }
      } catch {
        logger.error("signing key file not loaded; keeping the previous key", metadata: ["reason": "\(error)"])
      }
      userSupplied = userKeyFile.keys(nowMs: now)
    }
    var unusable: [String] = []
    let changed = ring.install(records: opened, userSupplied: userSupplied, unusable: &unusable)
    for kid in unusable {
      logger.error("signing key cannot be used: its private key does not parse", metadata: ["kid": "\(kid)"])
    }
    if changed {
      logger.info(
        "signing keys loaded", metadata: ["kids": "\(ring.snapshot.keys.map(\.kid).joined(separator: ","))"])
    }
  }

  private func create(kind: SigningKeyKind, slotStartMs: Int64, nowMs: Int64, in store: any SessionStore) throws
    -> Bool
  {
    let key = try RSAPrivateKey.generate(bits: 2048)
    let kid = kind == .static ? "s-\(RandomIdentifier.uuid())" : "d-\(nowMs)"
    let sealed = try sealer.seal(privateKeyPEM: try key.pkcs8PEM(), kid: kid)
    let record = SigningKeyRecord(
      kid: kid, kind: kind, algorithm: "RS256", slotStartMs: slotStartMs, privateKey: sealed.bytes,
      sealed: sealed.sealed, publicKeyPEM: try key.publicKey.spkiPEM(), createdAtMs: nowMs,
      expiresAtMs: kind == .static ? Int64.max : ring.policy.expiry(ofSlotStartingAt: slotStartMs))
    do {
      try store.insertSigningKey(record)
    } catch StoreError.duplicate {
      logger.debug("signing key for this slot was made by another sidecar", metadata: ["slot": "\(slotStartMs)"])
      return false
    }
    logger.info(
      "signing key created",
      metadata: [
        "kid": "\(kid)", "kind": "\(kind.rawValue)", "slotStartMs": "\(slotStartMs)", "sealed": "\(sealed.sealed)",
      ])
    return true
  }
}
