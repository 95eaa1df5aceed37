/// Why a cron expression was refused: which field, its text, and what is wrong with it.
public struct CronParseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// "seconds", "minutes", "hours", "day of month", "month", "day of week", or "expression" when the
  /// text does not split into six fields at all.
  public let field: String
  /// The text of the offending field (the whole expression for a wrong field count).
  public let token: String
  /// What is wrong, e.g. "value 25 is out of range 0-23".
  public let message: String

  init(field: CronField, token: some StringProtocol, message: String) {
    self.field = field.name
    self.token = String(token)
    self.message = message
  }

  init(expression: String, message: String) {
    self.field = "expression"
    self.token = expression
    self.message = message
  }

  public var description: String {
    if let position = CronField.allCases.first(where: { $0.name == field })?.rawValue {
      return "cron field \(position) (\(field)) \"\(token)\": \(message)"
    }
    return "cron expression \"\(token)\": \(message)"
  }
}
