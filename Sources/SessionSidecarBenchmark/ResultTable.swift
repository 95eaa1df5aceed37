import Foundation

/// One line of the results table; nil cells print as "–".
struct ResultRow {
  var number: String
  var measurement: String
  var concurrency: String
  var operationsPerSecond: Double
  var microsecondsPerOperation: Double
  var p50Microseconds: Double?
  var p99Microseconds: Double?
  var notes: String

  init(_ number: String, _ what: String, concurrency: String, _ measured: Measurement, notes: String) {
    self.number = number
    self.measurement = what
    self.concurrency = concurrency
    self.operationsPerSecond = measured.operationsPerSecond
    self.microsecondsPerOperation = measured.microsecondsPerOperation
    self.p50Microseconds = measured.percentileMicroseconds(0.50)
    self.p99Microseconds = measured.percentileMicroseconds(0.99)
    self.notes = notes
  }

  init(_ number: String, _ what: String, concurrency: String, operationsPerSecond: Double, notes: String) {
    self.number = number
    self.measurement = what
    self.concurrency = concurrency
    self.operationsPerSecond = operationsPerSecond
    self.microsecondsPerOperation = 1e6 / operationsPerSecond
    self.notes = notes
  }
}

/// The results as a Markdown table, preceded by one line saying where and how they were measured.
struct ResultTable {
  var context: String
  var rows: [ResultRow]

  var markdown: String {
    var lines = [
      context, "",
      "| # | Measurement | Concurrency | ops/s | µs/op | p50 µs | p99 µs | Notes |",
      "|---|---|---|--:|--:|--:|--:|---|",
    ]
    for row in rows {
      let cells = [
        row.number, row.measurement, row.concurrency, Self.format(row.operationsPerSecond, decimals: 0),
        Self.format(row.microsecondsPerOperation, decimals: 1), row.p50Microseconds.map { Self.format($0) } ?? "–",
        row.p99Microseconds.map { Self.format($0) } ?? "–", row.notes,
      ]
      lines.append("| " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func format(_ value: Double, decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f", value)
  }
}
