import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The JWKS file for processes that only read files: replaced atomically (write, then rename).
enum JWKSFile {
  static func write(_ json: String, to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    try Data(json.utf8).write(to: URL(fileURLWithPath: temporary))
    if rename(temporary, path) != 0 {
      let code = errno
      try? FileManager.default.removeItem(atPath: temporary)
      throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    }
  }
}
