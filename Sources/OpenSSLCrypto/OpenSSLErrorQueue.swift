internal import COpenSSL

/// Turns OpenSSL's per-thread error queue into Swift errors, and keeps it empty so one failure never leaks
/// into the report of the next operation on the same thread.
enum OpenSSLErrorQueue {
  /// Drains the queue and returns the most recent reason (OpenSSL's library/reason text, which holds no data).
  static func drain() -> String {
    var last: UInt = 0
    while case let code = ERR_get_error(), code != 0 { last = code }
    guard last != 0 else { return "unknown error" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(last, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The thrown form of a failed call.
  static func error(_ operation: String) -> CryptoError {
    .openSSL(operation: operation, reason: drain())
  }

  /// Throws unless `returnCode` is OpenSSL's success value 1.
  static func check(_ returnCode: Int32, _ operation: String) throws(CryptoError) {
    guard returnCode == 1 else { throw error(operation) }
  }

  /// Forgets errors of an expected failure (a signature that does not verify).
  static func discard() { ERR_clear_error() }
}
