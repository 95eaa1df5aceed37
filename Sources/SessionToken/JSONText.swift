/// Writing JSON string literals for the few values this module serialises itself (claims, kids).
public enum JSONText {
  /// `value` as a JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
  public static func quoted(_ value: String) -> String {
    var output = "\""
    output.reserveCapacity(value.utf8.count + 2)
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      case "\n": output += "\\n"
      case "\r": output += "\\r"
      case "\t": output += "\\t"
      case "\u{08}": output += "\\b"
      case "\u{0C}": output += "\\f"
      case "\u{00}"..."\u{1F}":
        let hex = String(scalar.value, radix: 16)
        output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: output.unicodeScalars.append(scalar)
      }
    }
    output += "\""
    return output
  }
}
