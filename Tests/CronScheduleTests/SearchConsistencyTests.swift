import CronSchedule
import Testing

/// The jumping search against the plainest possible one: try every second.
@Suite struct SearchConsistencyTests {
  @Test(
    arguments: [
      "*/7 * * * * *", "0 */13 */5 * * *", "30 59 23 * * *", "0 0 0 1,28-31 * *", "0 0 12 * * SAT,0",
      "15 45 1-3,22 29 * MON",
    ])
  func firstFireTimeIsTheFirstMatchingSecond(expression: String) throws {
    let cron = try CronExpression(parsing: expression)
    // Starts around month ends: 2024-02-28T21:17:03.250, 2023-12-31T22:00:00, 2025-06-30T23:59:59.999
    for afterMs: Int64 in [1_709_155_023_250, 1_704_060_000_000, 1_751_327_999_999] {
      let next = try #require(cron.nextFireTime(afterMs: afterMs))
      #expect(next % 1000 == 0)
      let firstSecond = afterMs / 1000 + 1
      let scanned = (firstSecond..<firstSecond + 8 * 86_400).first { cron.matches(epochSeconds: $0) }
      #expect(scanned.map { $0 * 1000 } == next, "after \(afterMs)")
    }
  }
}
