/// When dynamic signing keys are made, used and retired. Plain arithmetic on a clock value, no I/O.
///
/// Time is cut into slots of `interval`; the key of slot `s` signs tokens issued from `s * interval` on. It is
/// created (and so published) at least `publishLead` before that, because verifiers that cache the key set
/// (Envoy, Istio, PyJWKClient) must learn a key before the first token signed with it reaches them. It stays
/// published until the last token it can have signed has expired.
public struct SigningKeyPolicy: Sendable, Equatable {
  public var intervalMs: Int64
  public var accessTokenValidityMs: Int64
  /// How long a key is published before it may sign.
  public var publishLeadMs: Int64
  /// How long before its slot starts a key is made; longer than `publishLead` so that a sidecar that learns
  /// of it on its next key-ring refresh still has it `publishLead` ahead.
  public var prepareAheadMs: Int64
  /// Extra retention past the last token's expiry, for clock skew between hosts.
  public var retentionMarginMs: Int64

  public init(
    intervalMs: Int64, accessTokenValidityMs: Int64, publishLeadMs: Int64 = 60_000, prepareAheadMs: Int64 = 180_000,
    retentionMarginMs: Int64 = 300_000
  ) {
    self.intervalMs = intervalMs
    self.accessTokenValidityMs = accessTokenValidityMs
    self.publishLeadMs = publishLeadMs
    self.prepareAheadMs = max(prepareAheadMs, publishLeadMs)
    self.retentionMarginMs = retentionMarginMs
  }

  /// The policy the configuration asks for: `updateInterval` slots, tokens valid `accessToken.validity`.
  public init(config: SidecarConfig) {
    self.init(intervalMs: config.signingKeyUpdateIntervalMs, accessTokenValidityMs: config.accessTokenValidityMs)
  }

  public func slotStart(containing nowMs: Int64) -> Int64 {
    // Slot starts are positive so that slot 0 stays reserved for the static key.
    max(intervalMs, (nowMs / intervalMs) * intervalMs)
  }

  /// The slots that must have a key at `nowMs`: the current one, and the next one once it is close.
  public func slotsNeedingKeys(at nowMs: Int64) -> [Int64] {
    let current = slotStart(containing: nowMs)
    let next = current + intervalMs
    return nowMs >= next - prepareAheadMs ? [current, next] : [current]
  }

  /// When the first tokens are signed with the key of the slot starting at `slotStartMs`, a key may still
  /// sign for up to `publishLead` after its slot ends (if its successor was made late); every token expires
  /// `accessTokenValidity` after it was signed.
  public func expiry(ofSlotStartingAt slotStartMs: Int64) -> Int64 {
    slotStartMs + intervalMs + publishLeadMs + accessTokenValidityMs + retentionMarginMs
  }

  /// Picks the dynamic key that signs at `nowMs`: the newest key whose slot has begun and which has been
  /// published for `publishLead`, while it is within its signing window. When no key qualifies (a new
  /// database, or a sidecar back after every key expired) the newest begun key signs: nothing older exists
  /// that any verifier could know.
  public func signingSlot(among keys: [(slotStartMs: Int64, createdAtMs: Int64)], at nowMs: Int64) -> Int64? {
    let begun = keys.filter { $0.slotStartMs > 0 && $0.slotStartMs <= nowMs }
    let ready = begun.filter {
      $0.createdAtMs + publishLeadMs <= nowMs && nowMs < $0.slotStartMs + intervalMs + publishLeadMs
    }
    return (ready.max { $0.slotStartMs < $1.slotStartMs } ?? begun.max { $0.slotStartMs < $1.slotStartMs })?
      .slotStartMs
  }

  /// How long a verifier may cache the set while a key that is due has not been made yet (a key round runs
  /// every few seconds; the database may be down).
  public static let pendingKeyMaxAgeSeconds: Int64 = 5

  /// Seconds a verifier may cache the published key set: until the next key is due to be made or the next
  /// published key expires, whichever is first; at least 1. When `slotsWithKeys` is given and a key the policy
  /// needs now is not among them, only `pendingKeyMaxAgeSeconds`: the set is about to change.
  public func cacheMaxAgeSeconds(keyExpiries: [Int64], at nowMs: Int64, slotsWithKeys: Set<Int64>? = nil) -> Int64 {
    if let slotsWithKeys, slotsNeedingKeys(at: nowMs).contains(where: { !slotsWithKeys.contains($0) }) {
      return Self.pendingKeyMaxAgeSeconds
    }
    let nextCreation = slotStart(containing: nowMs) + intervalMs - prepareAheadMs
    var nextChange =
      nextCreation > nowMs ? nextCreation : slotStart(containing: nowMs) + 2 * intervalMs - prepareAheadMs
    for expiry in keyExpiries where expiry > nowMs { nextChange = min(nextChange, expiry) }
    return max(1, (nextChange - nowMs) / 1000)
  }
}
