import Testing

@testable import CronSchedule

/// The calendar the search stands on, against `date -u -d @<seconds>`.
@Suite struct UTCDateTimeTests {
  @Test(
    arguments: [
      (seconds: Int64(0), date: UTCDateTime(year: 1970, month: 1, day: 1), weekday: 4),
      (-1, UTCDateTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59), 3),
      (951_868_799, UTCDateTime(year: 2000, month: 2, day: 29, hour: 23, minute: 59, second: 59), 2),
      (-2_203_891_200, UTCDateTime(year: 1900, month: 3, day: 1), 4),
      (-11_676_096_000, UTCDateTime(year: 1600, month: 1, day: 1), 6),
      (4_107_456_000, UTCDateTime(year: 2100, month: 2, day: 28), 0),
      (4_107_542_400, UTCDateTime(year: 2100, month: 3, day: 1), 1),
      (1_709_164_800, UTCDateTime(year: 2024, month: 2, day: 29), 4),
    ])
  func convertsBothWays(seconds: Int64, date: UTCDateTime, weekday: Int) {
    #expect(UTCDateTime(epochSeconds: seconds) == date)
    #expect(date.epochSeconds == seconds)
    #expect(date.weekday == weekday)
  }

  @Test func leapYears() {
    #expect(UTCDateTime.daysInMonth(year: 2024, month: 2) == 29)
    #expect(UTCDateTime.daysInMonth(year: 2023, month: 2) == 28)
    #expect(UTCDateTime.daysInMonth(year: 2000, month: 2) == 29)
    #expect(UTCDateTime.daysInMonth(year: 2100, month: 2) == 28)
  }

  @Test func advancingRollsOverMonthsAndYears() {
    var time = UTCDateTime(year: 2024, month: 2, day: 28, hour: 23, minute: 59, second: 30)
    time.startNextMinute()
    #expect(time == UTCDateTime(year: 2024, month: 2, day: 29))
    time.startNextDay()
    #expect(time == UTCDateTime(year: 2024, month: 3, day: 1))
    time = UTCDateTime(year: 2024, month: 12, day: 31, hour: 23)
    time.startNextHour()
    #expect(time == UTCDateTime(year: 2025, month: 1, day: 1))
  }
}
