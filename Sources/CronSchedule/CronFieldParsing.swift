extension CronField {
  /// Parses one field's text — a comma list of `*`, `v`, `a-b`, `*/n`, `a-b/n` or `a/n` — into its values.
  func parse(_ text: Substring) throws(CronParseError) -> CronValueSet {
    if text == "?" {
      guard acceptsQuestionMark else {
        throw error(text, "\"?\" is only allowed in the day of month and day of week fields")
      }
      return try parseItem("*", of: text)
    }
    var values = CronValueSet()
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      values.formUnion(try parseItem(item, of: text))
    }
    if self == .dayOfWeek && values.contains(7) {
      values.insert(0)  // 7 is Sunday's second spelling; the search only ever asks for 0...6.
    }
    return values
  }

  private func parseItem(_ item: Substring, of text: Substring) throws(CronParseError) -> CronValueSet {
    guard !item.isEmpty else { throw error(text, "empty item in list") }
    guard !item.contains("?") else { throw error(text, "\"?\" must be the whole field, not part of a list") }
    let parts = item.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2 else { throw error(text, "\"\(item)\" has more than one step \"/\"") }
    let step = parts.count == 2 ? try parseStep(parts[1], of: text) : nil
    let lower: Int
    let upper: Int
    let base = parts[0]
    if base == "*" {
      (lower, upper) = (bounds.lowerBound, bounds.upperBound)
    } else if base.contains("-") {
      let ends = base.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
        throw error(text, "\"\(base)\" is not a range of the form a-b")
      }
      (lower, upper) = (try parseValue(ends[0], of: text), try parseValue(ends[1], of: text))
      guard lower <= upper else { throw error(text, "range \(base) is reversed: \(lower) is after \(upper)") }
    } else if base.isEmpty {
      throw error(text, "\"\(item)\" has no value before \"/\"")
    } else {
      lower = try parseValue(base, of: text)
      upper = step == nil ? lower : bounds.upperBound  // `a/n` runs from a to the field's maximum.
    }
    var values = CronValueSet()
    for value in stride(from: lower, through: upper, by: step ?? 1) {
      values.insert(value)
    }
    return values
  }

  private func parseStep(_ token: Substring, of text: Substring) throws(CronParseError) -> Int {
    guard !token.isEmpty else { throw error(text, "missing step after \"/\"") }
    guard let step = Self.decimal(token) else { throw error(text, "step \"\(token)\" is not a number") }
    let span = bounds.count
    guard (1...span).contains(step) else { throw error(text, "step \(token) is out of range 1-\(span)") }
    return step
  }

  private func parseValue(_ token: Substring, of text: Substring) throws(CronParseError) -> Int {
    if let value = Self.decimal(token) {
      guard bounds.contains(value) else {
        throw error(text, "value \(token) is out of range \(bounds.lowerBound)-\(bounds.upperBound)")
      }
      return value
    }
    if let nameRange, token.allSatisfy({ $0.isASCII && $0.isLetter }) {
      guard let value = names[token.uppercased()] else {
        throw error(text, "unknown \(name) name \"\(token)\" (expected \(nameRange))")
      }
      return value
    }
    let expected = nameRange.map { "a number or a name \($0)" } ?? "a number"
    throw error(text, "\"\(token)\" is not \(expected)")
  }

  /// A run of ASCII digits; an absurdly long run reads as `Int.max`, which every range check refuses.
  private static func decimal(_ token: Substring) -> Int? {
    guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(token) ?? Int.max
  }

  private func error(_ text: Substring, _ message: String) -> CronParseError {
    CronParseError(field: self, token: text, message: message)
  }
}
