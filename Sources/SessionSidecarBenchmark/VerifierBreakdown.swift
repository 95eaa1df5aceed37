import OpenSSLCrypto
import SessionToken

/// Where row 3's time goes besides the RSA check: the public pieces of `AccessTokenVerifier.verify`, each timed
/// alone on the fixture's token. They approximate the verifier's own steps (its JSON scan of the header and
/// payload, and its copies, are internal), so they explain most of the overhead rather than add up to it.
struct VerifierBreakdown {
  let fixture: VerifyPathFixture
  let warmup: Duration
  let duration: Duration

  func run() throws -> [(String, Measurement)] {
    let token = fixture.accessToken
    let segments = token.split(separator: ".")
    guard segments.count == 3, let payloadBytes = Base64URL.decode(segments[1]) else {
      throw BenchmarkError.setupFailed("the fixture's token is not a compact JWS")
    }
    let signingInput = Array(segments[0...1].joined(separator: ".").utf8)
    let payload = String(decoding: payloadBytes, as: UTF8.self)
    return [
      (
        "`Base64URL.decode` of header, payload and signature",
        try measure("base64url", warmup: warmup, duration: duration) {
          segments.allSatisfy { Base64URL.decode($0) != nil }
        }
      ),
      (
        "`SHA256.hash` of the \(signingInput.count)-byte signing input",
        try measure("SHA-256", warmup: warmup, duration: duration) { SHA256.hash(signingInput).count == 32 }
      ),
      (
        "`AccessTokenPayload.validateObject` of the \(payloadBytes.count)-byte payload (strict JSON scan)",
        try measure("strict JSON", warmup: warmup, duration: duration) {
          (try? AccessTokenPayload.validateObject(payload)) != nil
        }
      ),
    ]
  }

  /// A small table of the pieces; the mean is the column to compare, as each piece takes microseconds.
  static func markdown(_ pieces: [(String, Measurement)]) -> String {
    var lines = ["| Piece of row 3 | µs/op | p50 µs |", "|---|--:|--:|"]
    for (name, measured) in pieces {
      lines.append(
        "| \(name) | \(ResultTable.format(measured.microsecondsPerOperation, decimals: 2)) | "
          + "\(ResultTable.format(measured.percentileMicroseconds(0.5), decimals: 2)) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
