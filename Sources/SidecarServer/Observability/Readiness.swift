import SessionCore
import Synchronization

/// Whether the sidecar can do its work: a signing key is usable and the database answered recently. The
/// sidecar pings the database on its own (every `pingIntervalMs`), so readiness never waits for a request to
/// find out. `GET /readyz` and the socket's Health call read it.
public final class Readiness: Sendable {
  public static let pingIntervalMs: Int64 = 2000
  private let lastDatabaseAnswerMs = Mutex<Int64?>(nil)
  private let windowMs: Int64
  private let keyRing: SigningKeyRing
  private let clock: any WallClock

  init(windowSeconds: Int, keyRing: SigningKeyRing, clock: any WallClock) {
    self.windowMs = Int64(windowSeconds) * 1000
    self.keyRing = keyRing
    self.clock = clock
  }

  /// Records an answer to a call that started at `startedAtMs`: the evidence is as old as the call (a slow
  /// ping that began before an outage proves nothing about the time it returned).
  func databaseAnswered(callStartedAtMs startedAtMs: Int64) {
    lastDatabaseAnswerMs.withLock { $0 = max($0 ?? startedAtMs, startedAtMs) }
  }

  /// Did the database answer within the window?
  var databaseReachable: Bool {
    guard let last = lastDatabaseAnswerMs.withLock({ $0 }) else { return false }
    return clock.nowMs() - last <= windowMs
  }

  /// Why the sidecar is not ready; empty when it is.
  package var notReadyReasons: [String] {
    let now = clock.nowMs()
    var reasons: [String] = []
    if keyRing.signingKey(useStaticKey: false, at: now) == nil && keyRing.signingKey(useStaticKey: true, at: now) == nil
    {
      reasons.append("no signing key is usable")
    }
    switch lastDatabaseAnswerMs.withLock({ $0 }) {
    case nil: reasons.append("the database has not answered yet")
    case let last? where now - last > windowMs:
      reasons.append("the database has not answered for \((now - last) / 1000) s (limit \(windowMs / 1000) s)")
    default: break
    }
    return reasons
  }
}
