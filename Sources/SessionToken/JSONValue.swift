/// One scanned JSON value: its kind and the byte range of its raw text in the scanned buffer (strings include
/// their quotes). Values are located, not materialised: callers decode only the few they need.
struct JSONValue: Sendable, Equatable {
  enum Kind: Sendable, Equatable {
    /// `escaped` says whether the content holds backslash escapes (if not, it is the UTF-8 text itself).
    case string(escaped: Bool)
    case number(isInteger: Bool)
    case bool(Bool)
    case null
    case object
    case array
  }

  let kind: Kind
  let range: Range<Int>
}

/// One member of a scanned object: its decoded name and its value.
struct JSONMember: Sendable, Equatable {
  let name: String
  /// Raw text of the name, quotes included.
  let nameRange: Range<Int>
  let value: JSONValue
}

/// The outermost value of a scanned document, with its direct children located.
enum JSONDocument: Sendable, Equatable {
  case object([JSONMember])
  case array([JSONValue])
  case scalar(JSONValue)
}
