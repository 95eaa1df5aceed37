import Foundation
import Logging

// Measures the verify path layer by layer, from OpenSSL's own RSA rate to VerifySession through the socket,
// and prints the results as a Markdown table.
//
//   swift run -c release SessionSidecarBenchmark [--seconds N] [--output PATH]

let usage = "usage: SessionSidecarBenchmark [--seconds N (per row, default 3)] [--output PATH]"
var seconds = 3.0
var outputPath: String? = nil
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--seconds":
    guard let value = arguments.popFirst().flatMap(Double.init), value > 0 else { fatalError(usage) }
    seconds = value
  case "--output":
    guard let value = arguments.popFirst() else { fatalError(usage) }
    outputPath = value
  case "--help", "-h":
    print(usage)
    exit(0)
  default:
    fatalError(usage)
  }
}

func progress(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}

var logger = Logger(label: "session-sidecar-benchmark")
logger.logLevel = .warning
let duration = Duration.milliseconds(Int64(seconds * 1000))
let warmup = Duration.seconds(1)

progress("1/5 openssl speed -seconds 3 rsa2048")
let openSSL = try OpenSSLSpeed.measure(seconds: 3)

let layers = VerifyPathBenchmarks(fixture: try VerifyPathFixture(logger: logger), warmup: warmup, duration: duration)
progress("2/5 RSAPublicKey.isValidSHA256Signature")
let bareRSA = try layers.bareSignatureCheck()
progress("3/5 AccessTokenVerifier.verify")
let tokenVerifier = try layers.accessTokenVerifier()
progress("4/5 SessionService.verify")
let service = try layers.sessionService()
progress("5/5 VerifySession through the Unix socket")
let socket = try await SocketBenchmarks(warmup: warmup, duration: duration, logger: logger).run()

func microseconds(_ value: Double) -> String { ResultTable.format(value, decimals: 1) + " µs" }
func times(_ value: Double) -> String { ResultTable.format(value, decimals: 2) + "×" }

let signingInputBytes = layers.fixture.accessToken.split(separator: ".").dropLast().joined(separator: ".").utf8.count
let table = ResultTable(
  context: """
    Measured \(Date().formatted(.iso8601.year().month().day())) on \(Machine.cpuModel), \
    \(ProcessInfo.processInfo.activeProcessorCount) cores, \(openSSL.version), release build; \
    \(ResultTable.format(seconds)) s per row after 1 s of warm-up. Rows 5a–c run the client and the sidecar \
    in one process on the same cores.
    """,
  rows: [
    ResultRow(
      "1", "`openssl speed rsa2048` verify", concurrency: "1 thread", operationsPerSecond: openSSL.verifiesPerSecond,
      notes: "pre-hashed input, one reused context"),
    ResultRow(
      "2", "`RSAPublicKey.isValidSHA256Signature`", concurrency: "1 thread", bareRSA,
      notes: "\(ResultTable.format(100 * bareRSA.operationsPerSecond / openSSL.verifiesPerSecond, decimals: 0))% "
        + "of row 1; includes SHA-256 of the \(signingInputBytes)-byte signing input"),
    ResultRow(
      "3", "`AccessTokenVerifier.verify`", concurrency: "1 thread", tokenVerifier,
      notes: "+\(microseconds(tokenVerifier.microsecondsPerOperation - bareRSA.microsecondsPerOperation)) "
        + "over the bare RSA check (row 2)"),
    ResultRow(
      "4", "`SessionService.verify` (in-memory store)", concurrency: "1 thread", service,
      notes: "+\(microseconds(service.microsecondsPerOperation - tokenVerifier.microsecondsPerOperation)) "
        + "over row 3"),
    ResultRow(
      "5a", "VerifySession over the socket", concurrency: "1 connection, 1 in flight", socket.oneAtATime,
      notes: "+\(microseconds(socket.oneAtATime.microsecondsPerOperation - service.microsecondsPerOperation)) "
        + "per call over row 4; µs/op is the mean latency"),
    ResultRow(
      "5b", "VerifySession over the socket", concurrency: "1 connection, 64 in flight", socket.pipelined,
      notes: "\(times(socket.pipelined.operationsPerSecond / socket.oneAtATime.operationsPerSecond)) row 5a; "
        + "µs/op is 1/throughput"),
    ResultRow(
      "5c", "VerifySession over the socket", concurrency: "4 connections × 64 in flight", socket.fourConnections,
      notes: "\(times(socket.fourConnections.operationsPerSecond / service.operationsPerSecond)) row 4's "
        + "single-thread rate"),
  ])

print(table.markdown, terminator: "")
if let outputPath {
  try table.markdown.write(toFile: outputPath, atomically: true, encoding: .utf8)
  progress("wrote \(outputPath)")
}
