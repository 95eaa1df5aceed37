import OpenSSLCrypto
import SessionStorage
import SessionToken
import Synchronization

/// A signing key parsed once, ready to sign and verify.
public struct LoadedSigningKey: Sendable {
  public let kid: String
  public let kind: SigningKeyKind
  public let algorithm: String
  public let slotStartMs: Int64
  public let createdAtMs: Int64
  public let expiresAtMs: Int64
  public let publicKeyPEM: String
  public let privateKey: RSAPrivateKey
  public let verificationKey: VerificationKey
  /// Read from the operator's key file rather than the database.
  public var isUserSupplied = false
}

/// The keys this sidecar signs and verifies with, held in memory so that verification never touches the
/// database. Readers take an immutable snapshot under a short lock; `install` swaps in a new one.
public final class SigningKeyRing: VerificationKeyLookup {
  /// An immutable view of the ring at one moment.
  public final class Snapshot: Sendable {
    public let keys: [LoadedSigningKey]
    /// The RFC 7517 JWK Set of every key in `keys`, built once per change.
    public let jwksJSON: String
    /// Increases with every change, so watchers can tell when to publish again.
    public let generation: Int

    init(keys: [LoadedSigningKey], generation: Int) {
      self.keys = keys
      self.generation = generation
      self.jwksJSON = JWKSet(keys: keys.map(\.verificationKey)).json
    }
  }

  private let current = Mutex(Snapshot(keys: [], generation: 0))
  public let policy: SigningKeyPolicy
  /// False when every token is signed by the static or the operator's key: dynamic keys are still made (so
  /// the setting can be turned back on) but a late one does not shorten the cache time.
  let usesDynamicKeys: Bool

  public init(policy: SigningKeyPolicy, usesDynamicKeys: Bool = true) {
    self.policy = policy
    self.usesDynamicKeys = usesDynamicKeys
  }

  public var snapshot: Snapshot { current.withLock { $0 } }

  public func verificationKey(kid: Substring) -> VerificationKey? {
    let snapshot = current.withLock { $0 }
    for key in snapshot.keys where key.kid == kid { return key.verificationKey }
    return nil
  }

  /// Why a token's kid is not in the ring.
  public enum UnknownKey: Sendable, Equatable {
    /// A dynamic key older than every one held: retired after every token it signed had expired.
    case retired
    /// A key newer than every one held (a dynamic key or a replaced key file, made by another sidecar in the
    /// last seconds): this sidecar loads it on its next key round.
    case notLoadedYet
    /// Anything else: forged.
    case unknown
  }

  public func classify(unknownKid kid: String) -> UnknownKey {
    let keys = snapshot.keys
    if kid.hasPrefix("s-file-") {
      return keys.contains(where: \.isUserSupplied) ? .notLoadedYet : .unknown
    }
    guard kid.hasPrefix("d-"), let createdAt = Int64(kid.dropFirst(2)) else { return .unknown }
    let dynamic = keys.filter { $0.kind == .dynamic }.map(\.createdAtMs)
    guard let oldest = dynamic.min(), let newest = dynamic.max() else { return .unknown }
    if createdAt < oldest { return .retired }
    if createdAt > newest { return .notLoadedYet }
    return .unknown
  }

  /// The key that signs a new access token at `nowMs`: the static key when asked for (or when dynamic
  /// keys are off), otherwise the dynamic key the policy picks.
  public func signingKey(useStaticKey: Bool, at nowMs: Int64) -> LoadedSigningKey? {
    let keys = snapshot.keys
    // The operator's key, when configured, signs everything (its first entry is the current one).
    if let userKey = keys.first(where: \.isUserSupplied) { return userKey }
    if useStaticKey {
      // The current static key is the newest one without an end; a replaced one only verifies until it ends.
      let statics = keys.filter { $0.kind == .static }
      return statics.filter { $0.expiresAtMs == Int64.max }.max { $0.createdAtMs < $1.createdAtMs }
        ?? statics.max { $0.createdAtMs < $1.createdAtMs }
    }
    let dynamic = keys.filter { $0.kind == .dynamic }
    guard
      let slot = policy.signingSlot(among: dynamic.map { ($0.slotStartMs, $0.createdAtMs) }, at: nowMs)
    else { return nil }
    return dynamic.first { $0.slotStartMs == slot }
  }

  /// Replaces the key set with `records` (already opened), reusing keys parsed before. A record whose key
  /// does not parse is left out and its kid put in `unusable`; the others are installed. Returns true when
  /// the set of kids changed.
  @discardableResult
  public func install(
    records: [(record: SigningKeyRecord, privateKeyPEM: String)], userSupplied: [LoadedSigningKey] = [],
    unusable: inout [String]
  ) -> Bool {
    let previous = snapshot
    var byKid: [String: LoadedSigningKey] = [:]
    for key in previous.keys { byKid[key.kid] = key }
    var loaded: [LoadedSigningKey] = []
    unusable = []
    for (record, pem) in records {
      if let known = byKid[record.kid] {
        loaded.append(known)
        continue
      }
      guard let privateKey = try? RSAPrivateKey(pem: pem) else {
        unusable.append(record.kid)
        continue
      }
      loaded.append(
        LoadedSigningKey(
          kid: record.kid, kind: record.kind, algorithm: record.algorithm, slotStartMs: record.slotStartMs,
          createdAtMs: record.createdAtMs, expiresAtMs: record.expiresAtMs, publicKeyPEM: record.publicKeyPEM,
          privateKey: privateKey,
          verificationKey: VerificationKey(
            kid: record.kid, publicKey: privateKey.publicKey, algorithm: record.algorithm)
        ))
    }
    loaded.sort { ($0.slotStartMs, $0.kid) < ($1.slotStartMs, $1.kid) }
    loaded = userSupplied + loaded
    guard loaded.map(\.kid) != previous.keys.map(\.kid) else { return false }
    let next = Snapshot(keys: loaded, generation: previous.generation + 1)
    current.withLock { $0 = next }
    return true
  }

  /// What verifiers are told: every key and how long they may cache the set.
  public func published(at nowMs: Int64) -> PublishedKeySet {
    let snapshot = self.snapshot
    return PublishedKeySet(
      jwksJSON: snapshot.jwksJSON, keys: snapshot.keys,
      cacheMaxAgeSeconds: policy.cacheMaxAgeSeconds(
        keyExpiries: snapshot.keys.filter { !$0.isUserSupplied }.map(\.expiresAtMs), at: nowMs,
        slotsWithKeys: usesDynamicKeys
          ? Set(snapshot.keys.filter { $0.kind == .dynamic }.map(\.slotStartMs)) : nil),
      generation: snapshot.generation)
  }
}

/// The public half of the key ring as published over the socket, to the JWKS file and over HTTP.
public struct PublishedKeySet: Sendable {
  public let jwksJSON: String
  public let keys: [LoadedSigningKey]
  public let cacheMaxAgeSeconds: Int64
  public let generation: Int
}
