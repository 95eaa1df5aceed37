import Foundation
import Logging

// Measures the verify path layer by layer, from OpenSSL's own RSA rate to VerifySession through the socket,
// and prints the results as Markdown tables (see docs/performance.md).
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

let fixture = try await VerifyPathFixture(logger: logger)
progress("2/5 RSA check, AccessTokenVerifier.verify and SessionService.verify, interleaved")
let layers = try VerifyPathBenchmarks(fixture: fixture, warmup: warmup, duration: duration).run()
let (bareRSA, tokenVerifier, service) = (layers.bareSignatureCheck, layers.accessTokenVerifier, layers.sessionService)
progress("3/5 pieces of AccessTokenVerifier.verify")
let pieces = try VerifierBreakdown(fixture: fixture, warmup: .milliseconds(500), duration: duration / 3).run()
progress("4/5 VerifySession through the Unix socket")
let socket = try await SocketBenchmarks(warmup: warmup, duration: duration, logger: logger).run()
progress("5/5 VerifySession through the gRPC listener's Unix socket")
let grpc = try await GRPCBenchmarks(warmup: warmup, duration: duration, logger: logger).run()

/// "+1.2 µs": the difference of two medians, which a busy neighbour shifts less than it shifts the means.
func medianIncrease(_ measured: Measurement, over base: Measurement) -> String {
  let difference = measured.percentileMicroseconds(0.5) - base.percentileMicroseconds(0.5)
  return (difference < 0 ? "" : "+") + ResultTable.format(difference) + " µs"
}
func ratio(_ value: Double, _ base: Double) -> String { ResultTable.format(value / base, decimals: 2) + "×" }

let table = ResultTable(
  context: """
    Measured \(Date().formatted(.iso8601.year().month().day())) on \(Machine.cpuModel), \
    \(ProcessInfo.processInfo.activeProcessorCount) cores, \(openSSL.version), release build; \
    \(ResultTable.format(seconds)) s per row after 1 s of warm-up (rows 2–4 in six interleaved rounds). \
    Rows 5 and 6 run the client and the sidecar in one process on the same cores.
    """,
  rows: [
    ResultRow(
      "1", "`openssl speed rsa2048` verify", concurrency: "1 thread", operationsPerSecond: openSSL.verifiesPerSecond,
      notes: "pre-hashed input, one reused context"),
    ResultRow(
      "2", "`RSAPublicKey.isValidSHA256Signature`", concurrency: "1 thread", bareRSA,
      notes: "\(ResultTable.format(100 * bareRSA.operationsPerSecond / openSSL.verifiesPerSecond, decimals: 0))% "
        + "of row 1's rate; hashes the signing input, duplicates a verify context"),
    ResultRow(
      "3", "`AccessTokenVerifier.verify`", concurrency: "1 thread", tokenVerifier,
      notes: "p50 \(medianIncrease(tokenVerifier, over: bareRSA)) over the bare RSA check (row 2)"),
    ResultRow(
      "4", "`SessionService.verify` (in-memory store)", concurrency: "1 thread", service,
      notes: "p50 \(medianIncrease(service, over: tokenVerifier)) over row 3: key ring, clock, session view"),
    ResultRow(
      "5a′", "Round trip with no verify work", concurrency: "1 connection, 1 in flight", socket.emptyRoundTrip,
      notes: "empty access token, answered INVALID_ARGUMENT before any verify work: the socket's floor"),
    ResultRow(
      "5a", "VerifySession over the socket", concurrency: "1 connection, 1 in flight", socket.oneAtATime,
      notes: "p50 \(medianIncrease(socket.oneAtATime, over: service)) over row 4: one round trip"),
    ResultRow(
      "5b", "VerifySession over the socket", concurrency: "1 connection, 64 in flight", socket.pipelined,
      notes: "\(ratio(socket.pipelined.operationsPerSecond, service.operationsPerSecond)) row 4's rate; "
        + "µs/op is 1/throughput"),
    ResultRow(
      "5c", "VerifySession over the socket", concurrency: "4 connections × 64 in flight", socket.fourConnections,
      notes: "\(ratio(socket.fourConnections.operationsPerSecond, service.operationsPerSecond)) row 4's rate; "
        + "µs/op is 1/throughput"),
    ResultRow(
      "6a′", "Round trip with no verify work, gRPC", concurrency: "1 connection, 1 in flight", grpc.emptyRoundTrip,
      notes:
        "empty access token, INVALID_ARGUMENT: gRPC's floor, \(ratio(grpc.emptyRoundTrip.percentileMicroseconds(0.5), socket.emptyRoundTrip.percentileMicroseconds(0.5))) row 5a′'s p50"
    ),
    ResultRow(
      "6a", "VerifySession over gRPC (Unix socket)", concurrency: "1 connection, 1 in flight", grpc.oneAtATime,
      notes: "p50 \(medianIncrease(grpc.oneAtATime, over: socket.oneAtATime)) over row 5a"),
    ResultRow(
      "6b", "VerifySession over gRPC (Unix socket)", concurrency: "1 connection, 64 in flight", grpc.pipelined,
      notes: "\(ratio(grpc.pipelined.operationsPerSecond, socket.pipelined.operationsPerSecond)) row 5b's rate"),
    ResultRow(
      "6c", "VerifySession over gRPC (Unix socket)", concurrency: "4 connections × 64 in flight",
      grpc.fourConnections,
      notes: "\(ratio(grpc.fourConnections.operationsPerSecond, socket.fourConnections.operationsPerSecond)) "
        + "row 5c's rate"),
  ])

let report = table.markdown + "\n" + VerifierBreakdown.markdown(pieces)
print(report, terminator: "")
if let outputPath {
  try report.write(toFile: outputPath, atomically: true, encoding: .utf8)
  progress("wrote \(outputPath)")
}
