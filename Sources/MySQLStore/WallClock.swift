#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Milliseconds since the epoch, for the few bookkeeping columns the protocol gives no time for
/// (schema migrations applied, job runs claimed). Session times always come from the caller's clock.
enum WallClock {
  static func nowMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}
