import Foundation

/// Runs blocking work (a child process, system(3), a MySQL call made directly on a store) on a thread of its
/// own and awaits it: Swift's cooperative pool has one thread per core (two here), and the sidecars that tests
/// run in this process need them.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}
