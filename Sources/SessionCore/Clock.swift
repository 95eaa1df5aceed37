import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Wall-clock time in milliseconds since the Unix epoch. Session rules take a clock so tests can drive time.
public protocol WallClock: Sendable {
  func nowMs() -> Int64
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
  public init() {}

  public func nowMs() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
  }
}

/// A clock that moves only when told to; shared by reference so every component sees the same time.
public final class TestClock: WallClock {
  private let now: Mutex<Int64>

  public init(nowMs: Int64 = 1_700_000_000_000) { now = Mutex(nowMs) }

  public func nowMs() -> Int64 { now.withLock { $0 } }

  public func advance(byMs ms: Int64) { now.withLock { $0 += ms } }

  public func set(nowMs: Int64) { now.withLock { $0 = nowMs } }
}
