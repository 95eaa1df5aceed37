/// Configuration text as a problem message shows it: on one line, in printable ASCII.
///
/// Keys and values come from the file or the environment and may hold anything YAML can spell: a newline would
/// split one problem over lines that no longer start with the file's path, a terminal escape would reach the
/// operator's screen, and a combining mark would fuse with the text before it.
public enum QuotedText {
  /// `"text"`, with `"` and `\` escaped, anything outside printable ASCII as `\u{XXXX}`, and at most `limit`
  /// characters of the original (then `…` outside the quotes).
  public static func quoted(_ text: String, limit: Int = 100) -> String {
    var out = "\""
    var count = 0
    for scalar in text.unicodeScalars {
      if count == limit { return out + "\"…" }
      count += 1
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      default: appendEscaped(scalar, to: &out)
      }
    }
    return out + "\""
  }

  /// `text` with everything outside printable ASCII as `\u{XXXX}` (and nothing else changed): the last guard on
  /// a problem message whose parts, such as a cron parser's, may quote input.
  public static func escaped(_ text: String) -> String {
    let kept: (Unicode.Scalar) -> Bool = { isPrintable($0) || $0 == "…" }
    guard !text.unicodeScalars.allSatisfy(kept) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if kept(scalar) { out.unicodeScalars.append(scalar) } else { appendEscaped(scalar, to: &out) }
    }
    return out
  }

  private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool { (" "..."~").contains(scalar) }

  private static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
    if isPrintable(scalar) {
      out.unicodeScalars.append(scalar)
    } else {
      out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
    }
  }

  /// A configuration key as is when it is plain (printable ASCII without spaces or quotes), else `quoted(_:)`.
  public static func key(_ key: String) -> String {
    let plain =
      !key.isEmpty && key.unicodeScalars.count <= 100
      && key.unicodeScalars.allSatisfy { isPrintable($0) && $0 != " " && $0 != "\"" && $0 != "\\" }
    return plain ? key : quoted(key)
  }
}
