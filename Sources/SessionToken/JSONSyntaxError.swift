/// Why text was refused as strict JSON, with the byte offset where it went wrong. Never quotes the input, so it
/// is safe to log and return to callers even when the input holds secrets.
struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
  let problem: String
  let offset: Int

  var description: String { "\(problem) at byte \(offset)" }
}
