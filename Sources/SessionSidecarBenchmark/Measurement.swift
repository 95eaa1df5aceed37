/// What one row measured: how many operations completed, over how long, and how long each one took.
struct Measurement {
  let operations: Int
  let elapsedNanoseconds: Int64
  /// One entry per operation, ascending, so percentiles are a plain index.
  let sortedLatencies: [Int64]

  init(elapsedNanoseconds: Int64, latencies: [Int64]) {
    self.operations = latencies.count
    self.elapsedNanoseconds = elapsedNanoseconds
    self.sortedLatencies = latencies.sorted()
  }

  /// Several runs of one operation as one measurement.
  init(combining parts: [Measurement]) {
    self.init(
      elapsedNanoseconds: parts.reduce(0) { $0 + $1.elapsedNanoseconds }, latencies: parts.flatMap(\.sortedLatencies))
  }

  var operationsPerSecond: Double { Double(operations) * 1e9 / Double(elapsedNanoseconds) }

  /// Wall time per operation: the mean latency when one operation runs at a time, the inverse of the
  /// throughput when many do.
  var microsecondsPerOperation: Double { Double(elapsedNanoseconds) / 1000 / Double(operations) }

  /// Nearest-rank percentile (`fraction` in 0...1) of the per-operation latency, in µs.
  func percentileMicroseconds(_ fraction: Double) -> Double {
    let rank = Int((Double(sortedLatencies.count) * fraction).rounded(.up))
    return Double(sortedLatencies[min(max(rank, 1), sortedLatencies.count) - 1]) / 1000
  }
}

enum BenchmarkError: Error, CustomStringConvertible {
  /// The measured call did not succeed: a benchmark of a failing path measures the wrong thing.
  case operationFailed(String)
  case setupFailed(String)

  var description: String {
    switch self {
    case .operationFailed(let what): "operation failed: \(what)"
    case .setupFailed(let what): "setup failed: \(what)"
    }
  }
}

/// Calls `operation` on this thread for `warmup`, then for `duration`, timing every call. Consecutive clock
/// readings chain, so the latencies add up to exactly the elapsed time and each call costs one clock read.
func measure(
  _ name: String, warmup: Duration, duration: Duration, _ operation: () -> Bool
) throws -> Measurement {
  let clock = ContinuousClock()
  let warmupEnd = clock.now + warmup
  while clock.now < warmupEnd {
    guard operation() else { throw BenchmarkError.operationFailed(name) }
  }
  var latencies: [Int64] = []
  latencies.reserveCapacity(1 << 18)
  let start = clock.now
  let end = start + duration
  var last = start
  while last < end {
    guard operation() else { throw BenchmarkError.operationFailed(name) }
    let now = clock.now
    latencies.append((now - last).nanoseconds)
    last = now
  }
  return Measurement(elapsedNanoseconds: (last - start).nanoseconds, latencies: latencies)
}

/// Measures several operations in turn, `rounds` short runs each, interleaved, so that a burst of work from
/// another process on the machine slows all of them alike instead of one, and compares them unfairly.
func measureInterleaved(
  _ operations: [(name: String, operation: () -> Bool)], rounds: Int, warmup: Duration, duration: Duration
) throws -> [Measurement] {
  for (name, operation) in operations { _ = try measure(name, warmup: .zero, duration: warmup, operation) }
  var parts = Array(repeating: [Measurement](), count: operations.count)
  for _ in 0..<rounds {
    for (index, (name, operation)) in operations.enumerated() {
      parts[index].append(try measure(name, warmup: .zero, duration: duration / rounds, operation))
    }
  }
  return parts.map(Measurement.init(combining:))
}

/// Runs `workers` concurrent loops of `operation` (each passed its worker index) for `warmup`, then for
/// `duration`. Throughput counts from the start until the last worker's last call has returned.
func measureConcurrently(
  _ name: String, workers: Int, warmup: Duration, duration: Duration,
  _ operation: @escaping @Sendable (_ worker: Int) async throws -> Bool
) async throws -> Measurement {
  _ = try await runWorkers(name, workers, until: .now + warmup, operation)
  let start = ContinuousClock.now
  let latencies = try await runWorkers(name, workers, until: start + duration, operation)
  return Measurement(elapsedNanoseconds: (ContinuousClock.now - start).nanoseconds, latencies: latencies)
}

private func runWorkers(
  _ name: String, _ workers: Int, until deadline: ContinuousClock.Instant,
  _ operation: @escaping @Sendable (Int) async throws -> Bool
) async throws -> [Int64] {
  try await withThrowingTaskGroup(of: [Int64].self) { group in
    for worker in 0..<workers {
      group.addTask {
        var latencies: [Int64] = []
        var last = ContinuousClock.now
        while last < deadline {
          guard try await operation(worker) else { throw BenchmarkError.operationFailed(name) }
          let now = ContinuousClock.now
          latencies.append((now - last).nanoseconds)
          last = now
        }
        return latencies
      }
    }
    var all: [Int64] = []
    for try await latencies in group { all += latencies }
    return all
  }
}

extension Duration {
  var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }
}
