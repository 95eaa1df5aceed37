/// `host:port` on the loopback interface, for listeners that must never be reachable from other hosts.
public struct LoopbackAddress: Sendable, Equatable {
  public var host: String
  public var port: Int

  /// Accepts `127.0.0.1:8080`, `localhost:8080` and `[::1]:8080`; nil for anything else.
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
      guard host.hasPrefix("127."), host.split(separator: ".").count == 4 else { return nil }
      self.host = String(host)
    }
    self.port = port
  }
}
