// Shared by the fuzz targets: compiled into each target's module next to its main.swift (see scripts/fuzz.sh).
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Fails the run with a message libFuzzer's log keeps: `fatalError` traps, libFuzzer reports the deadly
/// signal and writes the input to the crash directory.
@inline(never)
func fuzzCheck(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, line: UInt = #line
) {
  if !condition() { fatalError("fuzz check failed: \(message())", line: line) }
}

/// Findings already reported (ids in the comma-separated environment variable FUZZ_IGNORE): their checks
/// are counted instead of failing, so a run can go on looking for something else until they are fixed.
enum FuzzKnownFindings {
  static let ignored: Set<Substring> = {
    guard let raw = getenv("FUZZ_IGNORE") else { return [] }
    return Set(String(cString: raw).split(separator: ","))
  }()
}

/// A check for a reported finding `id`: fails like `fuzzCheck` unless FUZZ_IGNORE names it.
@inline(never)
func fuzzCheck(
  _ condition: @autoclosure () -> Bool, finding id: Substring, _ message: @autoclosure () -> String,
  line: UInt = #line
) {
  if !condition() && !FuzzKnownFindings.ignored.contains(id) {
    fatalError("fuzz check failed [\(id)]: \(message())", line: line)
  }
}

/// A problem message as operators read it: one line of printable ASCII (and `…` where quoted text was cut),
/// whatever the input held (QuotedText in Sources/SessionCore/Config escapes keys and values).
func isPrintableProblemLine(_ line: String) -> Bool {
  line.unicodeScalars.allSatisfy { (" "..."~").contains($0) || $0 == "\u{2026}" }
}

/// Reads typed values off the front of a fuzz input; past the end it yields zeros.
struct FuzzReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var position = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var isAtEnd: Bool { position >= bytes.count }

  mutating func byte() -> UInt8 {
    guard position < bytes.count else { return 0 }
    defer { position += 1 }
    return bytes[position]
  }

  /// Eight bytes, little-endian.
  mutating func int64() -> Int64 {
    var value: UInt64 = 0
    for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
    return Int64(bitPattern: value)
  }

  /// Everything not yet read.
  mutating func rest() -> UnsafeBufferPointer<UInt8> {
    defer { position = bytes.count }
    return position < bytes.count
      ? UnsafeBufferPointer(rebasing: bytes[position...]) : UnsafeBufferPointer(start: nil, count: 0)
  }
}

/// A small deterministic generator (xorshift64*), for choices derived from the input (chunk sizes and such).
struct FuzzRandom {
  var state: UInt64

  init(seed: UInt64) { state = seed | 1 }

  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }

  mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
