import CronSchedule
import Testing

@Suite struct CronParsingTests {
  @Test(
    arguments: [
      "0 0 0 1-31/7 * *", "*/15 * * * * *", "0 30 9 * * MON-FRI", "0 0 12 29 2 *", "0 0 0 ? * sun",
      "0 0 0 1 * *", "59 59 23 31 12 7", "0 5,10-12,50/5 0-23/1 1,15 Jan-Mar,dec 0-7",
    ])
  func acceptsValidExpressions(text: String) throws {
    let cron = try CronExpression(parsing: text)
    #expect(cron.description == text)
  }

  @Test func fieldsMayBeSeparatedByAnyWhitespace() throws {
    let spaced = try CronExpression(parsing: "  0\t0  0\n1-31/7 *   * ")
    let plain = try CronExpression(parsing: "0 0 0 1-31/7 * *")
    #expect(spaced.description == "  0\t0  0\n1-31/7 *   * ")
    #expect(spaced.nextFireTime(afterMs: 1_704_067_200_000) == plain.nextFireTime(afterMs: 1_704_067_200_000))
  }

  @Test func equalityFollowsTheText() throws {
    #expect(try CronExpression(parsing: "0 0 0 * * *") == CronExpression(parsing: "0 0 0 * * *"))
    #expect(try CronExpression(parsing: "0 0 0 * * *") != CronExpression(parsing: "0 0 1 * * *"))
  }
}
