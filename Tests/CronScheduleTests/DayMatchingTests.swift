import CronSchedule
import Testing

/// Standard cron's rule: when both day fields are restricted, a day matches if EITHER does.
@Suite struct DayMatchingTests {
  @Test func eitherDayFieldMatchesWhenBothAreRestricted() throws {
    // From Saturday 2024-03-09: Wed 13 (the 13th), Fri 15, Fri 22, Fri 29, Fri 5 April, Fri 12 April, Sat 13 April.
    #expect(
      try fireTimes(of: "0 0 0 13 * FRI", afterSeconds: 1_709_942_400, count: 7) == [
        1_710_288_000, 1_710_460_800, 1_711_065_600, 1_711_670_400, 1_712_275_200, 1_712_880_000, 1_712_966_400,
      ])
  }

  @Test(arguments: ["0 0 0 13 * *", "0 0 0 13 * ?"])
  func dayOfMonthAloneWhenDayOfWeekIsUnrestricted(expression: String) throws {
    // From 2024-03-09: the 13th of March, then of April.
    #expect(try fireTimes(of: expression, afterSeconds: 1_709_942_400, count: 2) == [1_710_288_000, 1_712_966_400])
  }

  @Test(arguments: ["0 0 0 * * FRI", "0 0 0 ? * FRI"])
  func dayOfWeekAloneWhenDayOfMonthIsUnrestricted(expression: String) throws {
    // From 2024-03-09: Fridays 15 and 22 March.
    #expect(try fireTimes(of: expression, afterSeconds: 1_709_942_400, count: 2) == [1_710_460_800, 1_711_065_600])
  }

  @Test func matchesChecksEveryField() throws {
    let removal = try CronExpression(parsing: "0 0 0 1-31/7 * *")
    #expect(removal.matches(epochSeconds: 1_709_164_800))  // 2024-02-29T00:00:00
    #expect(!removal.matches(epochSeconds: 1_709_164_801))  // 2024-02-29T00:00:01
    #expect(!removal.matches(epochSeconds: 1_709_337_600))  // 2024-03-02T00:00:00

    let fridayOrThirteenth = try CronExpression(parsing: "0 0 0 13 * FRI")
    #expect(fridayOrThirteenth.matches(epochSeconds: 1_710_288_000))  // Wednesday 2024-03-13
    #expect(fridayOrThirteenth.matches(epochSeconds: 1_710_460_800))  // Friday 2024-03-15
    #expect(!fridayOrThirteenth.matches(epochSeconds: 1_710_547_200))  // Saturday 2024-03-16
  }
}
