import CronSchedule
import Testing

@Suite struct CronParseErrorTests {
  struct Refusal: Sendable, CustomTestStringConvertible {
    let expression: String
    let field: String
    let token: String
    let message: String
    var testDescription: String { "\"\(expression)\"" }
  }

  @Test(
    arguments: [
      Refusal(
        expression: "", field: "expression", token: "",
        message: "expected 6 fields (seconds minutes hours day-of-month month day-of-week), found 0"),
      Refusal(
        expression: "0 0 * * *", field: "expression", token: "0 0 * * *",
        message: "expected 6 fields (seconds minutes hours day-of-month month day-of-week), found 5"),
      Refusal(
        expression: "0 0 0 * * * 2024", field: "expression", token: "0 0 0 * * * 2024",
        message: "expected 6 fields (seconds minutes hours day-of-month month day-of-week), found 7"),
      // Out of range, in every field.
      Refusal(expression: "60 * * * * *", field: "seconds", token: "60", message: "value 60 is out of range 0-59"),
      Refusal(expression: "0 0-60 * * * *", field: "minutes", token: "0-60", message: "value 60 is out of range 0-59"),
      Refusal(expression: "0 0 25 * * *", field: "hours", token: "25", message: "value 25 is out of range 0-23"),
      Refusal(expression: "0 0 0 0 * *", field: "day of month", token: "0", message: "value 0 is out of range 1-31"),
      Refusal(expression: "0 0 0 32 * *", field: "day of month", token: "32", message: "value 32 is out of range 1-31"),
      Refusal(expression: "0 0 0 * 13 *", field: "month", token: "13", message: "value 13 is out of range 1-12"),
      Refusal(expression: "0 0 0 * * 8", field: "day of week", token: "8", message: "value 8 is out of range 0-7"),
      Refusal(
        expression: "0 0 99999999999999999999 * * *", field: "hours", token: "99999999999999999999",
        message: "value 99999999999999999999 is out of range 0-23"),
      // Lists, ranges and steps.
      Refusal(expression: "0 1,,2 * * * *", field: "minutes", token: "1,,2", message: "empty item in list"),
      Refusal(expression: "0 1, * * * *", field: "minutes", token: "1,", message: "empty item in list"),
      Refusal(
        expression: "0 0 17-9 * * *", field: "hours", token: "17-9", message: "range 17-9 is reversed: 17 is after 9"),
      Refusal(
        expression: "0 0 0 * * SAT-SUN", field: "day of week", token: "SAT-SUN",
        message: "range SAT-SUN is reversed: 6 is after 0"),
      Refusal(expression: "*/0 * * * * *", field: "seconds", token: "*/0", message: "step 0 is out of range 1-60"),
      Refusal(
        expression: "0 0 0 1-31/32 * *", field: "day of month", token: "1-31/32",
        message: "step 32 is out of range 1-31"),
      Refusal(expression: "0 0 5/ * * *", field: "hours", token: "5/", message: "missing step after \"/\""),
      Refusal(expression: "0 0 /5 * * *", field: "hours", token: "/5", message: "\"/5\" has no value before \"/\""),
      Refusal(expression: "0 0 */x * * *", field: "hours", token: "*/x", message: "step \"x\" is not a number"),
      Refusal(
        expression: "0 0 1/2/3 * * *", field: "hours", token: "1/2/3", message: "\"1/2/3\" has more than one step \"/\""
      ),
      Refusal(
        expression: "0 0 1-2-3 * * *", field: "hours", token: "1-2-3",
        message: "\"1-2-3\" is not a range of the form a-b"),
      Refusal(
        expression: "0 0 -5 * * *", field: "hours", token: "-5", message: "\"-5\" is not a range of the form a-b"),
      // Names and garbage.
      Refusal(
        expression: "0 0 0 * JANUARY *", field: "month", token: "JANUARY",
        message: "unknown month name \"JANUARY\" (expected JAN-DEC)"),
      Refusal(
        expression: "0 0 0 * * Funday", field: "day of week", token: "Funday",
        message: "unknown day of week name \"Funday\" (expected SUN-SAT)"),
      Refusal(expression: "0 MON * * * *", field: "minutes", token: "MON", message: "\"MON\" is not a number"),
      Refusal(expression: "1x * * * * *", field: "seconds", token: "1x", message: "\"1x\" is not a number"),
      Refusal(
        expression: "0 0 0 * 1st *", field: "month", token: "1st",
        message: "\"1st\" is not a number or a name JAN-DEC"),
      // `?` belongs to the day fields, alone.
      Refusal(
        expression: "0 0 ? * * *", field: "hours", token: "?",
        message: "\"?\" is only allowed in the day of month and day of week fields"),
      Refusal(
        expression: "0 0 0 ?,1 * *", field: "day of month", token: "?,1",
        message: "\"?\" must be the whole field, not part of a list"),
    ])
  func refusesWithTheFieldAndReason(_ refusal: Refusal) {
    let error = #expect(throws: CronParseError.self) { try CronExpression(parsing: refusal.expression) }
    #expect(error?.field == refusal.field)
    #expect(error?.token == refusal.token)
    #expect(error?.message == refusal.message)
  }

  @Test func descriptionNamesThePositionAndField() throws {
    let error = try #require(throws: CronParseError.self) { try CronExpression(parsing: "0 0 25 * * *") }
    #expect(error.description == #"cron field 3 (hours) "25": value 25 is out of range 0-23"#)

    let fieldCount = try #require(throws: CronParseError.self) { try CronExpression(parsing: "0 0 * * *") }
    #expect(
      fieldCount.description
        == #"cron expression "0 0 * * *": expected 6 fields (seconds minutes hours day-of-month month day-of-week), found 5"#
    )
  }

  @Test func theFirstBadFieldIsReported() throws {
    let error = try #require(throws: CronParseError.self) { try CronExpression(parsing: "61 61 25 32 13 8") }
    #expect(error.field == "seconds")
    #expect(error.token == "61")
  }
}
