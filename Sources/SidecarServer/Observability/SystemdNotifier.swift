#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// systemd's readiness protocol (`Type=notify`): a datagram to `$NOTIFY_SOCKET`. Does nothing when the
/// variable is unset (not started by systemd).
public enum SystemdNotifier {
  /// Sends `state` (e.g. `READY=1`, `STOPPING=1`); returns whether it was sent.
  @discardableResult
  public static func notify(_ state: String) -> Bool {
    guard let variable = getenv("NOTIFY_SOCKET") else { return false }
    var path = Array(String(cString: variable).utf8)
    guard !path.isEmpty, path.count < 108 else { return false }
    // "@name" is an abstract socket: its address starts with a NUL byte.
    if path[0] == UInt8(ascii: "@") { path[0] = 0 }
    #if os(Linux)
      let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #else
      let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
    #endif
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (index, byte) in path.enumerated() { raw[index] = byte }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
    let sent = state.withCString { text in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(descriptor, text, strlen(text), 0, $0, length)
        }
      }
    }
    return sent >= 0
  }
}
