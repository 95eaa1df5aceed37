/// `host:port` on the loopback interface, for listeners that must never be reachable from other hosts.
public struct LoopbackAddress: Sendable, Equatable {
  public var host: String
  public var port: Int

  /// Accepts numeric loopback addresses only: `127.0.0.1:8080` (any 127.x.y.z) and `[::1]:8080`, plus the name
  /// `localhost` (bound as 127.0.0.1); nil for anything else, such as a host name that merely starts with `127.`.
  public init?(parsing text: String) {
    let host: Substring
    let portText: Substring
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
      host = text[text.index(after: text.startIndex)..<close]
      portText = text[text.index(close, offsetBy: 2)...]
    } else {
      guard let colon = text.lastIndex(of: ":") else { return nil }
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    }
    guard let port = Int(portText), (1...65535).contains(port) else { return nil }
    switch host {
    case "127.0.0.1", "localhost": self.host = "127.0.0.1"
    case "::1": self.host = "::1"
    default:
      let octets = host.split(separator: ".", omittingEmptySubsequences: false)
      guard octets.count == 4, octets[0] == "127",
        octets.allSatisfy({
          !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0 >= "0" && $0 <= "9" } && ($0 == "0" || $0.first != "0")
            && UInt8($0) != nil
        })
      else { return nil }
      // Plain decimal octets only: anything else ("127.0.0.08", "127.+1.0.1") would reach getaddrinfo as a name.
      self.host = octets.map { String(UInt8($0)!) }.joined(separator: ".")
    }
    self.port = port
  }
}
