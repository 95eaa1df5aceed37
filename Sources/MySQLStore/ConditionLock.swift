#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A pthread mutex with one condition variable: what the pool's blocking checkout waits on.
final class ConditionLock: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  init() {
    mutex.initialize(to: pthread_mutex_t())
    condition.initialize(to: pthread_cond_t())
    precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
    precondition(pthread_cond_init(condition, nil) == 0, "pthread_cond_init")
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    condition.deallocate()
    mutex.deallocate()
  }

  func lock() { pthread_mutex_lock(mutex) }

  func unlock() { pthread_mutex_unlock(mutex) }

  /// Wakes one waiter. Call with the lock held.
  func signal() { pthread_cond_signal(condition) }

  /// Wakes every waiter (when more than one connection became free at once).
  func broadcast() { pthread_cond_broadcast(condition) }

  /// Waits, with the lock held, until signalled or `seconds` have passed; false on timeout.
  func wait(seconds: Int) -> Bool {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var deadline = now
    deadline.tv_sec += seconds
    return pthread_cond_timedwait(condition, mutex, &deadline) == 0
  }

  func withLock<Value>(_ body: () throws -> Value) rethrows -> Value {
    lock()
    defer { unlock() }
    return try body()
  }
}
