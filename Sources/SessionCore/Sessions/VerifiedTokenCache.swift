import OpenSSLCrypto
import Synchronization

/// Access tokens that verified, remembered so the same token (every request of a logged-in user) costs a hash
/// and a lookup instead of an RSA check. It only remembers what the full verifier said about the signature and
/// the claims; everything that can change is checked again on every hit: expiry, the signing key still being
/// held (a retired key's tokens take the full path), and, in `SessionService.verify`, blacklisting and
/// anti-CSRF. Keyed by the SHA-256 of the whole token, with the token's length, so no other byte string maps
/// to an entry. Bounded by entries and by bytes; sharded so verifies on different cores rarely share a lock.
public final class VerifiedTokenCache: Sendable {
  /// What a hit returns: the decoded token's facts.
  public struct Entry: Sendable {
    public let kid: String
    public let sessionHandle: String
    public let userID: String
    public let payloadJSON: String
    public let antiCsrfToken: String?
    public let expiresAtMs: Int64
    let tokenLength: Int

    var bytes: Int { 96 + kid.utf8.count + sessionHandle.utf8.count + userID.utf8.count + payloadJSON.utf8.count }
  }

  private struct Key: Hashable {
    let digest: SIMD32<UInt8>
  }

  private struct Shard {
    var entries: [Key: Entry] = [:]
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
  private let maxEntriesPerShard: Int
  private let maxBytesPerShard: Int

  public init(maxEntries: Int, maxBytes: Int) {
    shards = (0..<Self.shardCount).map { _ in ShardBox() }
    maxEntriesPerShard = max(maxEntries / Self.shardCount, 1)
    maxBytesPerShard = max(maxBytes / Self.shardCount, 1)
  }

  public var count: Int { shards.reduce(0) { total, shard in total + shard.state.withLock { $0.entries.count } } }

  private static func key(_ token: String) -> Key {
    var digest = SIMD32<UInt8>()
    let hash = SHA256.hash(token)
    for index in 0..<32 { digest[index] = hash[index] }
    return Key(digest: digest)
  }

  /// The entry for `token` if it is held and has not expired at `nowMs`.
  public func lookup(_ token: String, nowMs: Int64) -> Entry? {
    let key = Self.key(token)
    let entry = shards[Int(key.digest[0]) % Self.shardCount].state.withLock { $0.entries[key] }
    guard let entry, entry.tokenLength == token.utf8.count, nowMs < entry.expiresAtMs else {
      misses.add(1, ordering: .relaxed)
      return nil
    }
    hits.add(1, ordering: .relaxed)
    return entry
  }

  public func insert(
    _ token: String, kid: String, sessionHandle: String, userID: String, payloadJSON: String, antiCsrfToken: String?,
    expiresAtMs: Int64
  ) {
    let key = Self.key(token)
    let entry = Entry(
      kid: kid, sessionHandle: sessionHandle, userID: userID, payloadJSON: payloadJSON, antiCsrfToken: antiCsrfToken,
      expiresAtMs: expiresAtMs, tokenLength: token.utf8.count)
    guard entry.bytes <= maxBytesPerShard else { return }
    shards[Int(key.digest[0]) % Self.shardCount].state.withLock { shard in
      if let old = shard.entries.updateValue(entry, forKey: key) {
        shard.bytes -= old.bytes
      } else {
        shard.order.append(key)
      }
      shard.bytes += entry.bytes
      while shard.entries.count > maxEntriesPerShard || shard.bytes > maxBytesPerShard {
        guard shard.head < shard.order.count else { break }
        let oldest = shard.order[shard.head]
        shard.head += 1
        if let removed = shard.entries.removeValue(forKey: oldest) { shard.bytes -= removed.bytes }
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
    shards[Int(key.digest[0]) % Self.shardCount].state.withLock { shard in
      if let removed = shard.entries.removeValue(forKey: key) { shard.bytes -= removed.bytes }
    }
  }
}
