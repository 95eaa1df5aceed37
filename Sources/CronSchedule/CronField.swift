/// One of the six positions of a cron expression, with its allowed values and names.
enum CronField: Int, CaseIterable, Sendable {
  case seconds = 1
  case minutes
  case hours
  case dayOfMonth
  case month
  case dayOfWeek

  /// The name used in error messages and in `CronParseError.field`.
  var name: String {
    switch self {
    case .seconds: "seconds"
    case .minutes: "minutes"
    case .hours: "hours"
    case .dayOfMonth: "day of month"
    case .month: "month"
    case .dayOfWeek: "day of week"
    }
  }

  /// The values a token may name; day of week admits 7 as a second spelling of Sunday.
  var bounds: ClosedRange<Int> {
    switch self {
    case .seconds, .minutes: 0...59
    case .hours: 0...23
    case .dayOfMonth: 1...31
    case .month: 1...12
    case .dayOfWeek: 0...7
    }
  }

  /// Three-letter names, upper-cased, mapped to their values.
  var names: [String: Int] {
    switch self {
    case .month:
      [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11,
        "DEC": 12,
      ]
    case .dayOfWeek:
      ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
    default:
      [:]
    }
  }

  /// How the names read in a message, e.g. "JAN-DEC".
  var nameRange: String? {
    switch self {
    case .month: "JAN-DEC"
    case .dayOfWeek: "SUN-SAT"
    default: nil
    }
  }

  /// `?` ("no specific value") only makes sense where the other day field can carry the restriction.
  var acceptsQuestionMark: Bool { self == .dayOfMonth || self == .dayOfWeek }
}
