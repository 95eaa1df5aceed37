extension CronExpression {
  /// How far ahead `nextFireTime(afterMs:)` looks before deciding the expression never fires (e.g. "31 of
  /// February"). Eight years, not five, because that is the longest gap between two February 29ths
  /// (2096 to 2104), so an expression that only fires on leap days is always found.
  static let searchHorizonYears = 8

  /// The first instant strictly after `afterMs` (ms since the Unix epoch, UTC) that matches, or nil if none
  /// within `searchHorizonYears` years.
  ///
  /// The search jumps to the next matching month, day, hour, minute and second in turn, restarting from the
  /// larger unit whenever a smaller one runs out, so it costs at most a few steps per day it passes over.
  public func nextFireTime(afterMs: Int64) -> Int64? {
    let afterSecond = afterMs / 1000 - (afterMs % 1000 < 0 ? 1 : 0)
    guard afterSecond < Int64.max else { return nil }
    var time = UTCDateTime(epochSeconds: afterSecond + 1)
    let lastYear = time.year + Self.searchHorizonYears
    while time.year <= lastYear {
      guard let month = months.first(atOrAfter: time.month) else {
        time.startNextYear()
        continue
      }
      if month != time.month {
        time = UTCDateTime(year: time.year, month: month, day: 1)
      }
      guard matchesDay(of: time) else {
        time.startNextDay()
        continue
      }
      guard let hour = hours.first(atOrAfter: time.hour) else {
        time.startNextDay()
        continue
      }
      if hour != time.hour {
        (time.hour, time.minute, time.second) = (hour, 0, 0)
      }
      guard let minute = minutes.first(atOrAfter: time.minute) else {
        time.startNextHour()
        continue
      }
      if minute != time.minute {
        (time.minute, time.second) = (minute, 0)
      }
      guard let second = seconds.first(atOrAfter: time.second) else {
        time.startNextMinute()
        continue
      }
      time.second = second
      let (milliseconds, overflow) = time.epochSeconds.multipliedReportingOverflow(by: 1000)
      return overflow ? nil : milliseconds
    }
    return nil
  }
}
