import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The JWKS file for processes that only read files, replaced atomically: written to a new file with an
/// unpredictable name in the same directory (mkstemp: O_CREAT|O_EXCL, so never through a planted symlink),
/// fsynced, made world-readable (public keys only), renamed over the old one, and the directory fsynced.
enum JWKSFile {
  static func write(_ json: String, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    var template = Array(((directory.isEmpty ? "." : directory) + "/.jwks-XXXXXX").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    do {
      let bytes = Array(json.utf8)
      var written = 0
      while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        written += count
      }
      guard fchmod(descriptor, 0o644) == 0, fsync(descriptor) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
      close(descriptor)
      guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    } catch {
      close(descriptor)
      unlink(temporary)
      throw error
    }
    let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
    if directoryDescriptor >= 0 {
      fsync(directoryDescriptor)
      close(directoryDescriptor)
    }
  }
}
