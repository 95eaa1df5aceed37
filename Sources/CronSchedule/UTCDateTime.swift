/// A proleptic Gregorian date and time of day in UTC, with the calendar arithmetic the fire-time search needs.
///
/// Conversions follow Howard Hinnant's `days_from_civil` / `civil_from_days`, exact for any Int64 second.
struct UTCDateTime: Sendable, Equatable {
  var year: Int
  var month: Int  // 1...12
  var day: Int  // 1...daysInMonth
  var hour: Int
  var minute: Int
  var second: Int

  init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
    (self.year, self.month, self.day) = (year, month, day)
    (self.hour, self.minute, self.second) = (hour, minute, second)
  }

  init(epochSeconds: Int64) {
    let seconds = Int(epochSeconds)
    let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
    var days400 = days + 719_468  // Days since 0000-03-01, where leap days fall at the end of a year.
    let era = Self.floorDivide(days400, 146_097).quotient
    days400 -= era * 146_097
    let yearOfEra = (days400 - days400 / 1460 + days400 / 36_524 - days400 / 146_096) / 365
    let dayOfYear = days400 - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    self.init(
      year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month,
      day: dayOfYear - (153 * shiftedMonth + 2) / 5 + 1,
      hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60)
  }

  /// Days since 1970-01-01.
  var daysSinceEpoch: Int {
    let marchYear = month <= 2 ? year - 1 : year
    let era = Self.floorDivide(marchYear, 400).quotient
    let yearOfEra = marchYear - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  var epochSeconds: Int64 {
    Int64(daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second)
  }

  /// 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday.
  var weekday: Int {
    Self.floorDivide(daysSinceEpoch + 4, 7).remainder
  }

  static func isLeapYear(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  static func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  mutating func startNextYear() {
    self = UTCDateTime(year: year + 1, month: 1, day: 1)
  }

  mutating func startNextMonth() {
    if month == 12 { startNextYear() } else { self = UTCDateTime(year: year, month: month + 1, day: 1) }
  }

  mutating func startNextDay() {
    if day == Self.daysInMonth(year: year, month: month) {
      startNextMonth()
    } else {
      self = UTCDateTime(year: year, month: month, day: day + 1)
    }
  }

  mutating func startNextHour() {
    if hour == 23 { startNextDay() } else { (hour, minute, second) = (hour + 1, 0, 0) }
  }

  mutating func startNextMinute() {
    if minute == 59 { startNextHour() } else { (minute, second) = (minute + 1, 0) }
  }

  /// Division rounding toward negative infinity, so instants before 1970 land on the right day.
  private static func floorDivide(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
    let remainder = value % divisor
    return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
  }
}
