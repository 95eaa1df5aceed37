import CronSchedule

/// The next `count` fire times of `expression` after `afterSeconds`, in whole epoch seconds.
///
/// Each call starts from the previous result, so this also checks "strictly after" at every step.
func fireTimes(of expression: String, afterSeconds: Int64, count: Int) throws -> [Int64?] {
  let cron = try CronExpression(parsing: expression)
  var results: [Int64?] = []
  var after: Int64? = afterSeconds * 1000
  for _ in 0..<count {
    let next = after.flatMap { cron.nextFireTime(afterMs: $0) }
    results.append(next.map { $0 / 1000 })
    after = next
  }
  return results
}
