// Fuzz target `cron`: compiled into module CronSchedule with Sources/CronSchedule (scripts/fuzz.sh).
//
// Input: 8 bytes (little-endian Int64, an instant in ms) then the expression text.
// Checks, for every expression CronExpression(parsing:) accepts:
//   - nextFireTime(afterMs:) is strictly later, on a whole second, and matches(epochSeconds:) that second;
//   - no second between the instant and the answer matches (the first 600 seconds are checked one by one);
//   - asking again from just before the answer gives the same answer, and from the answer a later one;
//   - nil ("never within the horizon") means none of the next 600 seconds matches either;
//   - the instant itself and its UTC calendar fields round-trip (UTCDateTime), and matches() never traps on any
//     Int64 (it is public).
// Refused expressions must say which field and why (CronParseError.description is non-empty and names a field).
@_cdecl("LLVMFuzzerTestOneInput")
public func cronFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  CronFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum CronFuzz {
  static let secondsScanned: Int64 = 600
  static let fieldNames: Set<String> = Set(CronField.allCases.map(\.name)).union(["expression"])

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let raw = reader.int64()
    let text = String(decoding: reader.rest(), as: UTF8.self)

    // Any Int64 is a valid argument of the public matches(epochSeconds:).
    let expression: CronExpression
    do {
      expression = try CronExpression(parsing: text)
    } catch {
      fuzzCheck(fieldNames.contains(error.field), "unknown field name \(error.field)")
      fuzzCheck(!error.message.isEmpty && !error.description.isEmpty, "empty parse error")
      return
    }
    fuzzCheck(expression.description == text, "description is not the text")
    _ = expression.matches(epochSeconds: raw)

    // Instants the service can hand in: milliseconds from a wall clock, so |ms| well inside Int64; keep the
    // raw value too when it is reachable as milliseconds.
    let afterMs = raw
    let afterSecond = afterMs / 1000 - (afterMs % 1000 < 0 ? 1 : 0)
    if afterSecond > Int64.min / 2, afterSecond < Int64.max / 2 {
      let time = UTCDateTime(epochSeconds: afterSecond)
      fuzzCheck(time.epochSeconds == afterSecond, "UTCDateTime round trip of \(afterSecond): \(time)")
      fuzzCheck((1...12).contains(time.month), "month \(time.month)")
      fuzzCheck((1...UTCDateTime.daysInMonth(year: time.year, month: time.month)).contains(time.day), "day \(time)")
      fuzzCheck(
        (0...23).contains(time.hour) && (0...59).contains(time.minute) && (0...59).contains(time.second),
        "time of day \(time)")
      fuzzCheck((0...6).contains(time.weekday), "weekday \(time.weekday)")
    }

    guard let next = expression.nextFireTime(afterMs: afterMs) else {
      var second = afterSecond + 1
      while second <= afterSecond + secondsScanned, second < Int64.max / 1000 {
        fuzzCheck(
          !expression.matches(epochSeconds: second), "\"\(text)\" after \(afterMs): nil, but \(second)s matches")
        second += 1
      }
      return
    }
    fuzzCheck(next > afterMs, "\"\(text)\" after \(afterMs): \(next) is not later")
    fuzzCheck(next % 1000 == 0, "\"\(text)\" after \(afterMs): \(next) is not a whole second")
    let nextSecond = next / 1000
    fuzzCheck(expression.matches(epochSeconds: nextSecond), "\"\(text)\" after \(afterMs): \(next) does not match")
    var second = afterSecond + 1
    while second < nextSecond, second <= afterSecond + secondsScanned {
      fuzzCheck(
        !expression.matches(epochSeconds: second),
        "\"\(text)\" after \(afterMs): \(next), but \(second)s matches earlier")
      second += 1
    }
    fuzzCheck(expression.nextFireTime(afterMs: next - 1) == next, "\"\(text)\": from \(next - 1) not \(next)")
    if let following = expression.nextFireTime(afterMs: next) {
      fuzzCheck(following > next, "\"\(text)\": after \(next) comes \(following)")
    }
  }
}
