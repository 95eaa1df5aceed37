/// The values one cron field matches, as a bit per value (all fields fit in 0...63).
struct CronValueSet: Sendable, Equatable {
  private(set) var bits: UInt64 = 0

  func contains(_ value: Int) -> Bool {
    (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
  }

  /// The smallest member not less than `value`, which lets the search jump instead of stepping.
  func first(atOrAfter value: Int) -> Int? {
    guard value < 64 else { return nil }
    let remaining = bits & (~0 << UInt64(max(value, 0)))
    return remaining == 0 ? nil : remaining.trailingZeroBitCount
  }

  mutating func insert(_ value: Int) {
    bits |= 1 << UInt64(value)
  }

  mutating func formUnion(_ other: CronValueSet) {
    bits |= other.bits
  }
}
