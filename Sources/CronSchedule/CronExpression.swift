/// A 6-field cron expression with seconds, as SuperTokens' `removalCronjobInterval` (default "0 0 0 1-31/7 * *").
///
/// Fields are seconds, minutes, hours, day of month, month (1-12 or JAN-DEC) and day of week (0-7 with 0 and 7
/// both Sunday, or SUN-SAT), each a comma list of `*`, `v`, `a-b`, `*/n`, `a-b/n` or `a/n`; the day fields also
/// accept `?`. As in standard cron, when both day fields are restricted a day matches if either one does.
/// All times are UTC. Two expressions are equal when their text is.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
  /// The original text.
  public let description: String
  let seconds: CronValueSet
  let minutes: CronValueSet
  let hours: CronValueSet
  let daysOfMonth: CronValueSet
  let months: CronValueSet
  let daysOfWeek: CronValueSet
  /// Whether the day fields were `*`/`?`; this, not the value sets, decides the either-day rule.
  let isDayOfMonthRestricted: Bool
  let isDayOfWeekRestricted: Bool

  public init(parsing text: String) throws(CronParseError) {
    let fields = text.split(whereSeparator: \.isWhitespace)
    guard fields.count == CronField.allCases.count else {
      throw CronParseError(
        expression: text,
        message: "expected 6 fields (seconds minutes hours day-of-month month day-of-week), found \(fields.count)")
    }
    description = text
    seconds = try CronField.seconds.parse(fields[0])
    minutes = try CronField.minutes.parse(fields[1])
    hours = try CronField.hours.parse(fields[2])
    daysOfMonth = try CronField.dayOfMonth.parse(fields[3])
    months = try CronField.month.parse(fields[4])
    daysOfWeek = try CronField.dayOfWeek.parse(fields[5])
    isDayOfMonthRestricted = fields[3] != "*" && fields[3] != "?"
    isDayOfWeekRestricted = fields[5] != "*" && fields[5] != "?"
  }

  /// Whether the expression fires at this second (UTC).
  public func matches(epochSeconds: Int64) -> Bool {
    let time = UTCDateTime(epochSeconds: epochSeconds)
    return months.contains(time.month) && matchesDay(of: time) && hours.contains(time.hour)
      && minutes.contains(time.minute) && seconds.contains(time.second)
  }

  func matchesDay(of time: UTCDateTime) -> Bool {
    let dayOfMonthMatches = daysOfMonth.contains(time.day)
    let dayOfWeekMatches = daysOfWeek.contains(time.weekday)
    if isDayOfMonthRestricted && isDayOfWeekRestricted {
      return dayOfMonthMatches || dayOfWeekMatches
    }
    return dayOfMonthMatches && dayOfWeekMatches  // An unrestricted field matches every day.
  }
}
