import SessionCore
import Testing

@Suite("SigningKeyPolicy")
struct SigningKeyPolicyTests {
  static let hour: Int64 = 3_600_000
  /// One-hour slots, one-hour tokens, the default lead (60 s), prepare-ahead (180 s) and margin (300 s).
  let policy = SigningKeyPolicy(intervalMs: hour, accessTokenValidityMs: hour)
  /// A slot boundary well after the epoch.
  let slot: Int64 = 472_222 * hour

  @Test func slotStartIsTheBoundaryAtOrBefore() {
    #expect(policy.slotStart(containing: slot) == slot)
    #expect(policy.slotStart(containing: slot + Self.hour - 1) == slot)
    #expect(policy.slotStart(containing: slot + Self.hour) == slot + Self.hour)
    // Slot 0 is the static key's: the first dynamic slot starts at one interval.
    #expect(policy.slotStart(containing: 5) == Self.hour)
  }

  @Test func nextSlotIsPreparedOnlyWithinPrepareAhead() {
    let next = slot + Self.hour
    #expect(policy.slotsNeedingKeys(at: slot) == [slot])
    #expect(policy.slotsNeedingKeys(at: next - 180_001) == [slot])
    #expect(policy.slotsNeedingKeys(at: next - 180_000) == [slot, next])
    #expect(policy.slotsNeedingKeys(at: next - 1) == [slot, next])
    #expect(policy.slotsNeedingKeys(at: next) == [next])
  }

  @Test func prepareAheadIsNeverShorterThanPublishLead() {
    let odd = SigningKeyPolicy(
      intervalMs: Self.hour, accessTokenValidityMs: 1000, publishLeadMs: 90_000, prepareAheadMs: 10)
    #expect(odd.prepareAheadMs == 90_000)
  }

  @Test func newKeyDoesNotSignBeforeItHasBeenPublishedForTheLead() {
    let next = slot + Self.hour
    // The successor was made late, 10 s before its slot began.
    let keys: [(slotStartMs: Int64, createdAtMs: Int64)] = [(slot, slot - 180_000), (next, next - 10_000)]
    #expect(policy.signingSlot(among: keys, at: next - 1) == slot)
    #expect(policy.signingSlot(among: keys, at: next) == slot)
    #expect(policy.signingSlot(among: keys, at: next + 49_999) == slot)
    #expect(policy.signingSlot(among: keys, at: next + 50_000) == next)
  }

  @Test func keyMadeInTimeSignsFromItsSlotStart() {
    let next = slot + Self.hour
    let keys: [(slotStartMs: Int64, createdAtMs: Int64)] = [(slot, slot - 180_000), (next, next - 180_000)]
    #expect(policy.signingSlot(among: keys, at: next - 1) == slot)
    #expect(policy.signingSlot(among: keys, at: next) == next)
  }

  @Test func freshDatabaseSignsWithItsOnlyKeyAtOnce() {
    let now = slot + 1234
    #expect(policy.signingSlot(among: [(slot, now)], at: now) == slot)
    #expect(policy.signingSlot(among: [(0, now), (slot, now)], at: now) == slot)
  }

  @Test func staticSlotAndUnbegunSlotsNeverSign() {
    #expect(policy.signingSlot(among: [(0, 0)], at: slot) == nil)
    #expect(policy.signingSlot(among: [(slot + Self.hour, slot)], at: slot) == nil)
    #expect(policy.signingSlot(among: [], at: slot) == nil)
  }

  @Test func lateSuccessorSignsOnceThePredecessorsWindowHasEnded() {
    let next = slot + Self.hour
    // The predecessor's window ends `publishLead` after its slot; nothing else is older, so the new key signs.
    let keys: [(slotStartMs: Int64, createdAtMs: Int64)] = [(slot, slot - 180_000), (next, next + 70_000)]
    #expect(policy.signingSlot(among: [keys[0]], at: next + 69_999) == slot)
    #expect(policy.signingSlot(among: keys, at: next + 70_000) == next)
  }

  @Test(arguments: [0, 1, 59_999, 60_000, 1_800_000, 3_599_999, 3_659_999] as [Int64])
  func expiryCoversEveryTokenTheKeyCanSign(offset: Int64) {
    let expiry = policy.expiry(ofSlotStartingAt: slot)
    #expect(expiry == slot + Self.hour + 60_000 + Self.hour + 300_000)
    // Signing at `slot + offset` is possible for offset < interval + lead; that token lives one validity.
    if offset < Self.hour + policy.publishLeadMs {
      #expect(slot + offset + policy.accessTokenValidityMs + policy.retentionMarginMs <= expiry)
    }
  }

  /// The next instant after `nowMs` at which a new key is due to be made.
  private func nextCreation(after nowMs: Int64) -> Int64 {
    var boundary = policy.slotStart(containing: nowMs) + policy.intervalMs
    while boundary - policy.prepareAheadMs <= nowMs { boundary += policy.intervalMs }
    return boundary - policy.prepareAheadMs
  }

  @Test(arguments: [
    Int64(0), 1, 999, 1000, 60_000, 1_000_000, 3_419_999, 3_420_000, 3_420_001, 3_599_000, 3_599_999,
  ])
  func cacheMaxAgeNeverOutlivesTheNextCreation(offset: Int64) {
    let now = slot + offset
    let age = policy.cacheMaxAgeSeconds(keyExpiries: [], at: now)
    #expect(age >= 1)
    let creation = nextCreation(after: now)
    if creation - now >= 1000 {
      #expect(now + age * 1000 <= creation, "age \(age) s at offset \(offset) passes the next creation")
    } else {
      #expect(age == 1)
    }
  }

  @Test func cacheMaxAgeNeverOutlivesTheNextExpiry() {
    let now = slot + 1000
    #expect(policy.cacheMaxAgeSeconds(keyExpiries: [now + 42_500, now + 500_000], at: now) == 42)
    // Keys already expired are ignored; a key about to expire gives the minimum of one second.
    #expect(policy.cacheMaxAgeSeconds(keyExpiries: [now - 1, now + 10], at: now) == 1)
    #expect(policy.cacheMaxAgeSeconds(keyExpiries: [now - 1], at: now) == (slot + Self.hour - 180_000 - now) / 1000)
  }
}

@Suite("Cache time while a due key is missing")
struct PendingKeyCacheTests {
  @Test func aDueKeyThatIsNotMadeYetKeepsTheCacheShort() {
    let hour: Int64 = 3_600_000
    let policy = SigningKeyPolicy(intervalMs: hour, accessTokenValidityMs: hour)
    let slot: Int64 = 1_800_000_000_000 / hour * hour
    // 100 s before the next slot: its key is due (made 180 s ahead) but the ring has only the current one.
    let now = slot + hour - 100_000
    #expect(policy.cacheMaxAgeSeconds(keyExpiries: [], at: now, slotsWithKeys: [slot]) == 5)
    // Once it exists, the set is stable until the key after it is due.
    let stable = policy.cacheMaxAgeSeconds(keyExpiries: [], at: now, slotsWithKeys: [slot, slot + hour])
    #expect(stable == (slot + 2 * hour - 180_000 - now) / 1000)
  }
}
