import CronSchedule
import Testing

/// Expected instants were computed with `date -u -d <ISO date> +%s`, independently of the implementation.
@Suite struct NextFireTimeTests {
  /// SuperTokens' default `removalCronjobInterval`: midnight on days 1, 8, 15, 22 and 29 of every month.
  static let removalDefault = "0 0 0 1-31/7 * *"

  @Test(
    "the default removal schedule fires at midnight on days 1, 8, 15, 22, 29",
    arguments: [
      // 2024-01-01T00:00:00 is itself a fire time; the next is strictly after it: 2024-01-08.
      (after: 1_704_067_200, expected: [1_704_672_000]),
      // 2024-01-29T00:00:00 → 2024-02-01, 2024-02-08
      (1_706_486_400, [1_706_745_600, 1_707_350_400]),
      // 2024-02-22T12:00:00 → 2024-02-29 (leap year) → 2024-03-01
      (1_708_603_200, [1_709_164_800, 1_709_251_200]),
      // 2023-02-22T12:00:00 → 2023-03-01: February 2023 has no 29th
      (1_677_067_200, [1_677_628_800]),
      // 2024-12-29T00:00:01 → 2025-01-01, across the year end
      (1_735_430_401, [1_735_689_600]),
    ] as [(after: Int64, expected: [Int64])])
  func removalDefault(after: Int64, expected: [Int64]) throws {
    #expect(try fireTimes(of: Self.removalDefault, afterSeconds: after, count: expected.count) == expected)
  }

  @Test func fractionalMillisecondsRoundToTheNextWholeSecond() throws {
    let everyQuarterMinute = try CronExpression(parsing: "*/15 * * * * *")
    // 2024-01-01T12:00:14.500 → 12:00:15; 12:00:15.000 exactly → 12:00:30
    #expect(everyQuarterMinute.nextFireTime(afterMs: 1_704_110_414_500) == 1_704_110_415_000)
    #expect(everyQuarterMinute.nextFireTime(afterMs: 1_704_110_415_000) == 1_704_110_430_000)
    #expect(everyQuarterMinute.nextFireTime(afterMs: 1_704_110_414_999) == 1_704_110_415_000)
  }

  @Test func everyFifteenSeconds() throws {
    // 2024-01-01T00:00:00 → :15, :30, :45, 00:01:00
    #expect(
      try fireTimes(of: "*/15 * * * * *", afterSeconds: 1_704_067_200, count: 4) == [
        1_704_067_215, 1_704_067_230, 1_704_067_245, 1_704_067_260,
      ])
    // 2023-12-31T23:59:45 → 2024-01-01T00:00:00
    #expect(try fireTimes(of: "*/15 * * * * *", afterSeconds: 1_704_067_185, count: 1) == [1_704_067_200])
  }

  @Test(
    "half past nine on weekdays",
    arguments: [
      // Wednesday 2024-03-13T08:00 → the same day 09:30
      (after: Int64(1_710_316_800), expected: Int64(1_710_322_200)),
      // Friday 2024-03-15T09:30 (a fire time) → Monday 2024-03-18T09:30
      (1_710_495_000, 1_710_754_200),
      // Saturday 2024-03-16T10:00 → Monday 2024-03-18T09:30
      (1_710_583_200, 1_710_754_200),
    ])
  func weekdayMornings(after: Int64, expected: Int64) throws {
    #expect(try fireTimes(of: "0 30 9 * * MON-FRI", afterSeconds: after, count: 1) == [expected])
  }

  @Test(
    "leap day only",
    arguments: [
      // 2024-03-01 → 2028-02-29T12:00
      (after: Int64(1_709_251_200), expected: Int64(1_835_438_400)),
      // 2028-02-29T11:59:59 → the same day at noon
      (1_835_438_399, 1_835_438_400),
      // 2096-03-01 → 2104-02-29T12:00: 2100 is not a leap year, an eight-year gap
      (3_981_398_400, 4_233_729_600),
    ])
  func leapDay(after: Int64, expected: Int64) throws {
    #expect(try fireTimes(of: "0 0 12 29 2 *", afterSeconds: after, count: 1) == [expected])
    #expect(try fireTimes(of: "0 0 12 29 feb ?", afterSeconds: after, count: 1) == [expected])
  }

  @Test func leapDayBeforeTheEpoch() throws {
    // 1959-03-01 → 1960-02-29
    #expect(try fireTimes(of: "0 0 0 29 2 *", afterSeconds: -342_057_600, count: 1) == [-310_521_600])
    // 1969-12-31T23:59:59 → 1970-01-01T00:00:00
    #expect(try fireTimes(of: "0 0 0 * * *", afterSeconds: -1, count: 1) == [0])
    let everySecond = try CronExpression(parsing: "* * * * * *")
    #expect(everySecond.nextFireTime(afterMs: -1500) == -1000)
  }

  @Test func thirtyFirstSkipsShortMonths() throws {
    // 2024-01-31 → 2024-03-31 (no 31 February) → 2024-05-31 (no 31 April)
    #expect(
      try fireTimes(of: "0 0 0 31 * *", afterSeconds: 1_706_659_200, count: 2) == [1_711_843_200, 1_717_113_600])
    // 2024-04-01 → 2024-05-31
    #expect(try fireTimes(of: "0 0 0 31 * *", afterSeconds: 1_711_929_600, count: 1) == [1_717_113_600])
  }

  @Test(arguments: ["0 0 0 30 2 *", "0 0 0 31 4,6,9,11 *", "0 0 0 31 FEB-APR/2 ?"])
  func neverFires(expression: String) throws {
    let cron = try CronExpression(parsing: expression)
    #expect(cron.nextFireTime(afterMs: 1_704_067_200_000) == nil)
  }

  @Test func listsAndSteps() throws {
    // Minutes 5, 10-12 and 50/5 (50, 55) from 2024-01-01T00:00:00, wrapping into the next hour.
    #expect(
      try fireTimes(of: "0 5,10-12,50/5 * * * *", afterSeconds: 1_704_067_200, count: 7) == [
        1_704_067_500, 1_704_067_800, 1_704_067_860, 1_704_067_920, 1_704_070_200, 1_704_070_500, 1_704_071_100,
      ])
    // Hours 9-17/4 = 9, 13, 17; seconds 10-30/10 = 10, 20, 30.
    #expect(
      try fireTimes(of: "10-30/10 0 9-17/4 * * *", afterSeconds: 1_704_067_200, count: 5) == [
        1_704_099_610, 1_704_099_620, 1_704_099_630, 1_704_114_010, 1_704_114_020,
      ])
  }

  @Test func namesAndSundayAsSeven() throws {
    // From 2024-03-01: 1 July 2024, then 1 January 2025.
    #expect(
      try fireTimes(of: "0 0 0 1 jan,Jul *", afterSeconds: 1_709_251_200, count: 2) == [1_719_792_000, 1_735_689_600])
    // From Wednesday 2024-03-13: Friday 15, Saturday 16, Sunday 17 (7), Friday 22.
    let weekend = [Int64(1_710_460_800), 1_710_547_200, 1_710_633_600, 1_711_065_600]
    #expect(try fireTimes(of: "0 0 0 * * 5-7", afterSeconds: 1_710_288_000, count: 4) == weekend)
    #expect(try fireTimes(of: "0 0 0 * * fri,SAT,sun", afterSeconds: 1_710_288_000, count: 4) == weekend)
    #expect(try fireTimes(of: "0 0 0 * * 0", afterSeconds: 1_710_288_000, count: 1) == [1_710_633_600])
  }

  @Test func extremeInstantsDoNotTrap() throws {
    let everySecond = try CronExpression(parsing: "* * * * * *")
    #expect(everySecond.nextFireTime(afterMs: .max) == nil)
    #expect(everySecond.nextFireTime(afterMs: .min) == -9_223_372_036_854_775_000)
  }
}
