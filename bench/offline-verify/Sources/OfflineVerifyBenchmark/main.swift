// The offline library's verify (SessionTokenVerifier's OfflineAccessTokenVerifier) against raw OpenSSL and
// vapor/jwt-kit's RS256 verify, on one access token made as the sidecar makes them (issue 11).
//
//   swift run -c release OfflineVerifyBenchmark [--seconds S] [--rounds N] [--json FILE]
//
// Each round runs every verifier for S seconds in batches of 256 calls, in an order that rotates from round to
// round, so a burst of other work on the machine slows all of them alike; the table shows each one's median
// and best round. Every call's answer is checked: a verifier that refuses the token stops the benchmark.
import CRawVerify
import Foundation
import JWTKit
import OpenSSLCrypto
import SessionToken

struct Options {
  var seconds = 1.0
  var rounds = 7
  var jsonPath: String?

  init(_ arguments: [String]) throws {
    var rest = arguments.dropFirst()
    while let flag = rest.popFirst() {
      guard let value = rest.popFirst() else { throw BenchmarkError("\(flag) needs a value") }
      switch flag {
      case "--seconds": seconds = try Self.number(value, flag)
      case "--rounds": rounds = Int(try Self.number(value, flag))
      case "--json": jsonPath = value
      default: throw BenchmarkError("unknown option \(flag); use --seconds S, --rounds N, --json FILE")
      }
    }
    guard seconds > 0, rounds > 0 else { throw BenchmarkError("--seconds and --rounds must be positive") }
  }

  private static func number(_ text: String, _ flag: String) throws -> Double {
    guard let value = Double(text) else { throw BenchmarkError("\(flag): \"\(text)\" is not a number") }
    return value
  }
}

struct BenchmarkError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The session claims jwt-kit decodes; `verify(using:)` checks the expiry, as the library does.
struct SessionPayload: JWTPayload {
  let sub: SubjectClaim
  let exp: ExpirationClaim
  let iat: IssuedAtClaim
  let sessionHandle: String
  let refreshTokenHash1: String

  func verify(using algorithm: some JWTAlgorithm) async throws {
    try exp.verifyNotExpired()
  }
}

/// One token and everything each verifier needs for it.
struct Fixture {
  /// App claims of a typical size, as in SessionSidecarBenchmark's verify path fixture.
  static let customClaims = #"{"role":"member","tenant":"acme","scopes":["read","write"]}"#
  let token: String
  let signingInput: [UInt8]
  let signature: [UInt8]
  let nowMs: Int64
  let offline: OfflineAccessTokenVerifier
  let publicKey: RSAPublicKey
  let rawKey: UnsafeMutableRawPointer
  let jwtKit: JWTKeyCollection

  init() async throws {
    let key = try RSAPrivateKey.generate(bits: 2048)
    let kid = "d-benchmark"
    nowMs = Int64(Date().timeIntervalSince1970 * 1000)
    let claims = AccessTokenClaims(
      subject: "user-42", expiresAt: nowMs / 1000 + 3600, issuedAt: nowMs / 1000,
      sessionHandle: "3f6c2b1e-8d4a-4c1b-9e7f-2a5d6c8b0e13", refreshTokenHash1: String(repeating: "ab", count: 32),
      antiCsrfToken: nil)
    let payload = try AccessTokenPayload.build(claims: claims, customJSON: Self.customClaims)
    token = try AccessTokenSigner.sign(payloadJSON: payload, kid: kid, key: key)
    let lastDot = token.utf8.lastIndex(of: UInt8(ascii: "."))!
    signingInput = Array(token.utf8[..<lastDot])
    guard let signature = Base64URL.decode(token[token.index(after: lastDot)...]) else {
      throw BenchmarkError("the signature is not base64url")
    }
    self.signature = signature

    publicKey = key.publicKey
    offline = try OfflineAccessTokenVerifier(
      jwksJSON: JWKSet(keys: [VerificationKey(kid: kid, publicKey: key.publicKey)]).json)
    guard let raw = try raw_verify_key(key.publicKey.spkiPEM()) else {
      throw BenchmarkError("OpenSSL did not read the public key")
    }
    rawKey = raw
    jwtKit = JWTKeyCollection()
    let jwtKitKey = try Insecure.RSA.PublicKey(
      modulus: Base64URL.encode(key.publicKey.modulus), exponent: Base64URL.encode(key.publicKey.exponent))
    await jwtKit.add(rsa: jwtKitKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
  }
}

/// A verifier under test: one call checks the fixture's token and says whether it was accepted.
struct Contender {
  let name: String
  let what: String
  let call: @Sendable (Fixture) async -> Bool
}

let contenders: [Contender] = [
  Contender(
    name: "raw OpenSSL", what: "EVP_DigestVerifyInit + EVP_DigestVerify (SHA-256, RSA-2048) in C, a fresh context"
  ) { fixture in
    fixture.signingInput.withUnsafeBufferPointer { input in
      fixture.signature.withUnsafeBufferPointer { signature in
        raw_verify(fixture.rawKey, input.baseAddress, input.count, signature.baseAddress, signature.count) == 1
      }
    }
  },
  Contender(
    name: "OpenSSLCrypto RSA check",
    what: "RSAPublicKey.isValidSHA256Signature on the same bytes (the library's door to OpenSSL)"
  ) { fixture in
    fixture.publicKey.isValidSHA256Signature(fixture.signature, message: fixture.signingInput)
  },
  Contender(
    name: "SessionTokenVerifier",
    what: "OfflineAccessTokenVerifier.verify: parse, strict JSON, header rules, kid lookup, RS256, claims, expiry"
  ) { fixture in
    if case .valid = fixture.offline.verify(fixture.token, nowMs: fixture.nowMs) { return true }
    return false
  },
  Contender(
    name: "jwt-kit 5",
    what: "JWTKeyCollection.verify(_:as:) with an RS256 key (swift-crypto/BoringSSL), Codable claims, expiry"
  ) { fixture in
    (try? await fixture.jwtKit.verify(fixture.token, as: SessionPayload.self)) != nil
  },
]

func measure(_ contender: Contender, _ fixture: Fixture, seconds: Double) async throws -> Double {
  let clock = ContinuousClock()
  let budget = Duration.nanoseconds(Int64(seconds * 1e9))
  var calls = 0
  let start = clock.now
  var elapsed = Duration.zero
  while elapsed < budget {
    for _ in 0..<256 {
      guard await contender.call(fixture) else { throw BenchmarkError("\(contender.name) refused the token") }
    }
    calls += 256
    elapsed = clock.now - start
  }
  let (s, attoseconds) = elapsed.components
  return (Double(s) * 1e9 + Double(attoseconds) / 1e9) / Double(calls)
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted.count % 2 == 1
    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

do {
  let options = try Options(CommandLine.arguments)
  let fixture = try await Fixture()
  FileHandle.standardError.write(
    "token: \(fixture.token.utf8.count) bytes; \(options.rounds) rounds of \(options.seconds) s per verifier\n"
      .data(using: .utf8)!)
  // Warm-up: every path once for a while (caches, lazily built tables, the allocator).
  for contender in contenders { _ = try await measure(contender, fixture, seconds: min(options.seconds, 0.3)) }

  var perRound = Array(repeating: [Double](), count: contenders.count)
  for round in 0..<options.rounds {
    for step in 0..<contenders.count {
      let index = (step + round) % contenders.count
      perRound[index].append(try await measure(contenders[index], fixture, seconds: options.seconds))
    }
    FileHandle.standardError.write("round \(round + 1): done\n".data(using: .utf8)!)
  }

  let medians = perRound.map(median)
  let raw = medians[0]
  var table = """
    | verifier | median ns/verify | best round ns | verifies/s (median) | × raw OpenSSL's time | what one call does |
    |---|--:|--:|--:|--:|---|

    """
  for (index, contender) in contenders.enumerated() {
    let row = [
      contender.name, format(medians[index], 0), format(perRound[index].min()!, 0), format(1e9 / medians[index], 0),
      format(medians[index] / raw, 2), contender.what,
    ]
    table += "| " + row.joined(separator: " | ") + " |\n"
  }
  let library = medians[2]
  let jwtKit = medians[3]
  table += "\nSessionTokenVerifier: \(format(library / raw, 2)) × raw OpenSSL's time per verify; "
  table += "jwt-kit takes \(format(jwtKit / library, 2)) × the library's time.\n"
  print(table, terminator: "")

  if let path = options.jsonPath {
    var json: [String: Any] = [
      "token_bytes": fixture.token.utf8.count, "rounds": options.rounds, "seconds_per_round": options.seconds,
      "library_over_raw": library / raw, "jwtkit_over_library": jwtKit / library,
      "timestamp": ISO8601DateFormatter().string(from: Date()),
    ]
    for (index, contender) in contenders.enumerated() {
      json[contender.name] = ["median_ns": medians[index], "rounds_ns": perRound[index]]
    }
    let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
  }
} catch {
  FileHandle.standardError.write("OfflineVerifyBenchmark: \(error)\n".data(using: .utf8)!)
  exit(1)
}
