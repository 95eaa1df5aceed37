import OpenSSLCrypto
import SessionToken
import Synchronization

/// Access tokens that verified, remembered so the same token (every request of a logged-in user) costs a hash
/// and a lookup instead of an RSA check. It only remembers what the full verifier said about the signature and
/// the claims; everything that can change is checked again on every hit: expiry, the signing key still being
/// held (a retired key's tokens take the full path), and, in `SessionService.verify`, blacklisting and
/// anti-CSRF. Keyed by the SHA-256 of the whole token, with the token's length, so no other byte string maps
/// to an entry. Bounded by entries and by bytes; sharded so verifies on different cores rarely share a lock.
///
/// An entry keeps only what the token's own bytes cannot give back cheaply: the kid, session handle, user id and
/// anti-CSRF token in one string, and the expiry. The payload, most of an entry's size otherwise, is decoded
/// again from the presented token on a hit: its SHA-256 matched, so those are the bytes that verified. That is
/// one base64url decode per hit (the three segments of a typical token decode in 1.8 µs, docs/performance.md),
/// and `scripts/bench.sh` measured 100,000 cached tokens at 41 MiB instead of 94 MiB.
public final class VerifiedTokenCache: Sendable {
  /// What a hit returns: the decoded token's facts.
  public struct Entry: Sendable, Equatable {
    public let kid: String
    public let sessionHandle: String
    public let userID: String
    public let payloadJSON: String
    public let antiCsrfToken: String?
    public let expiresAtMs: Int64
  }

  private struct Key: Hashable {
    let digest: SIMD32<UInt8>

    /// Eight bytes of a SHA-256 digest are as uniform as all 32 (and no input chooses them), so hashing those
    /// spares the dictionary 32 byte-by-byte rounds per lookup; equality still compares all 32.
    func hash(into hasher: inout Hasher) {
      hasher.combine(unsafeBitCast(digest, to: (UInt64, UInt64, UInt64, UInt64).self).0)
    }
  }

  /// An entry as held: one string with the kid, session handle, user id and anti-CSRF token one after the other
  /// (one allocation), their UTF-8 lengths, the expiry and the token's length.
  private struct Stored {
    let facts: String
    let kidLength: UInt32
    let handleLength: UInt32
    let userLength: UInt32
    /// UInt32.max when the token carries no anti-CSRF token.
    let antiCsrfLength: UInt32
    let tokenLength: UInt32
    let expiresAtMs: Int64

    /// What the bytes bound counts: the entry's share of the table, its key in the eviction order, and the facts.
    var bytes: Int { 160 + facts.utf8.count }

    /// nil when a length does not fit in UInt32 (no token the verifier accepts comes near: they are capped by
    /// `sidecar.maxAccessTokenBytes`, at most 1 MiB).
    init?(
      kid: String, sessionHandle: String, userID: String, antiCsrfToken: String?, tokenLength: Int, expiresAtMs: Int64
    ) {
      facts = kid + sessionHandle + userID + (antiCsrfToken ?? "")
      // The parts are no longer than all of them together.
      guard tokenLength < UInt32.max, facts.utf8.count < UInt32.max else { return nil }
      kidLength = UInt32(kid.utf8.count)
      handleLength = UInt32(sessionHandle.utf8.count)
      userLength = UInt32(userID.utf8.count)
      antiCsrfLength = antiCsrfToken.map { UInt32($0.utf8.count) } ?? .max
      self.tokenLength = UInt32(tokenLength)
      self.expiresAtMs = expiresAtMs
    }

    /// The entry, with `payloadJSON` decoded from `token` (nil if it does not decode, which a token that verified
    /// always does).
    func entry(token: String) -> Entry? {
      guard let payload = Self.payload(of: token) else { return nil }
      let utf8 = facts.utf8
      var start = utf8.startIndex
      func next(_ length: UInt32) -> String {
        let end = utf8.index(start, offsetBy: Int(length))
        defer { start = end }
        return String(decoding: utf8[start..<end], as: UTF8.self)
      }
      let kid = next(kidLength)
      let handle = next(handleLength)
      let user = next(userLength)
      let antiCsrf = antiCsrfLength == .max ? nil : next(antiCsrfLength)
      return Entry(
        kid: kid, sessionHandle: handle, userID: user, payloadJSON: payload, antiCsrfToken: antiCsrf,
        expiresAtMs: expiresAtMs)
    }

    /// The JSON text of a compact JWS's payload segment (between its first and last dot).
    private static func payload(of token: String) -> String? {
      var token = token
      // The dots are found on the contiguous UTF-8 bytes: String.UTF8View's own search goes byte by byte through
      // its index type, which showed in profiles of the hit path.
      let dots: (first: Int, last: Int)? = token.withUTF8 { bytes in
        guard let first = bytes.firstIndex(of: UInt8(ascii: ".")),
          let last = bytes.lastIndex(of: UInt8(ascii: ".")), first < last
        else { return nil }
        return (first, last)
      }
      guard let dots else { return nil }
      let utf8 = token.utf8
      let start = utf8.index(utf8.startIndex, offsetBy: dots.first + 1)
      let end = utf8.index(utf8.startIndex, offsetBy: dots.last)
      guard let bytes = Base64URL.decode(token[start..<end]) else { return nil }
      return String(decoding: bytes, as: UTF8.self)
    }
  }

  private struct Shard {
    var entries: [Key: Stored] = [:]
    /// Insertion order, for evicting the oldest first.
    var order: [Key] = []
    var head = 0
    var bytes = 0
  }

  /// One lock's worth of the cache (Mutex cannot live in an array itself).
  private final class ShardBox: Sendable {
    let state = Mutex(Shard())
  }

  static let shardCount = 16
  /// Lookups that found a live entry, and those that did not (for metrics).
  public let hits = Atomic<Int>(0)
  public let misses = Atomic<Int>(0)
  private let shards: [ShardBox]
  /// Entries in all shards. The entry bound is global: tokens do not spread evenly over the shards, and a bound
  /// per shard of maxEntries / 16 would make the fullest shards evict while the cache as a whole still has room
  /// (and a working set that just fits would then miss on every pass, oldest-first eviction cycling through it).
  private let total = Atomic<Int>(0)
  private let maxEntries: Int
  /// Twice a shard's fair share: only a shard far fuller than the others evicts before the global bound.
  private let maxEntriesPerShard: Int
  private let maxBytesPerShard: Int

  public init(maxEntries: Int, maxBytes: Int) {
    shards = (0..<Self.shardCount).map { _ in ShardBox() }
    self.maxEntries = max(maxEntries, 1)
    maxEntriesPerShard = max(2 * maxEntries / Self.shardCount, 1)
    maxBytesPerShard = max(maxBytes / Self.shardCount, 1)
  }

  public var count: Int { total.load(ordering: .relaxed) }

  private static func key(_ token: String) -> Key {
    var digest = SIMD32<UInt8>()
    let hash = SHA256.hash(token)
    for index in 0..<32 { digest[index] = hash[index] }
    return Key(digest: digest)
  }

  private func shard(_ key: Key) -> ShardBox { shards[Int(key.digest[0]) % Self.shardCount] }

  /// The entry for `token` if it is held and has not expired at `nowMs`.
  public func lookup(_ token: String, nowMs: Int64) -> Entry? {
    let key = Self.key(token)
    let stored = shard(key).state.withLock { $0.entries[key] }
    guard let stored, Int(stored.tokenLength) == token.utf8.count, nowMs < stored.expiresAtMs,
      let entry = stored.entry(token: token)
    else {
      misses.add(1, ordering: .relaxed)
      return nil
    }
    hits.add(1, ordering: .relaxed)
    return entry
  }

  /// Remembers a token that verified (its payload is not kept: a hit decodes it from the token again).
  public func insert(
    _ token: String, kid: String, sessionHandle: String, userID: String, antiCsrfToken: String?, expiresAtMs: Int64
  ) {
    let key = Self.key(token)
    guard
      let stored = Stored(
        kid: kid, sessionHandle: sessionHandle, userID: userID, antiCsrfToken: antiCsrfToken,
        tokenLength: token.utf8.count, expiresAtMs: expiresAtMs),
      stored.bytes <= maxBytesPerShard
    else { return }
    shard(key).state.withLock { shard in
      if let old = shard.entries.updateValue(stored, forKey: key) {
        shard.bytes -= old.bytes
      } else {
        shard.order.append(key)
        total.add(1, ordering: .relaxed)
      }
      shard.bytes += stored.bytes
      // The oldest of this shard go first; the newest entry last, so the bound holds even if it is alone here.
      while shard.entries.count > maxEntriesPerShard || shard.bytes > maxBytesPerShard
        || total.load(ordering: .relaxed) > maxEntries
      {
        guard shard.head < shard.order.count else { break }
        let oldest = shard.order[shard.head]
        shard.head += 1
        if let removed = shard.entries.removeValue(forKey: oldest) {
          shard.bytes -= removed.bytes
          total.subtract(1, ordering: .relaxed)
        }
      }
      if shard.head > 1024 && shard.head * 2 > shard.order.count {
        shard.order.removeFirst(shard.head)
        shard.head = 0
      }
    }
  }

  /// Forgets the token (it did not pass a check made on the hit).
  public func remove(_ token: String) {
    let key = Self.key(token)
    shard(key).state.withLock { shard in
      if let removed = shard.entries.removeValue(forKey: key) {
        shard.bytes -= removed.bytes
        total.subtract(1, ordering: .relaxed)
      }
    }
  }
}
