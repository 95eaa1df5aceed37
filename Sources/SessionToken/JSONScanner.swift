/// The cursor behind `StrictJSON`: recursive descent over a byte buffer, refusing anything RFC 8259 does not
/// allow, plus duplicate member names and over-deep nesting.
struct JSONScanner {
  let bytes: UnsafeRawBufferPointer
  var position: Int
  let end: Int

  func peek() -> UInt8? { position < end ? bytes[position] : nil }

  func failure(_ problem: String) -> JSONSyntaxError { JSONSyntaxError(problem: problem, offset: position) }

  mutating func skipWhitespace() {
    while position < end {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  mutating func expect(_ byte: UInt8, _ problem: String) throws(JSONSyntaxError) {
    guard peek() == byte else { throw failure(problem) }
    position += 1
  }

  mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    let start = position
    guard let byte = peek() else { throw failure("unexpected end of JSON") }
    switch byte {
    case UInt8(ascii: "{"):
      _ = try scanObject(depth: depth + 1, collecting: false)
      return JSONValue(kind: .object, range: start..<position)
    case UInt8(ascii: "["):
      _ = try scanArray(depth: depth + 1, collecting: false)
      return JSONValue(kind: .array, range: start..<position)
    case UInt8(ascii: "\""):
      let escaped = try scanString()
      return JSONValue(kind: .string(escaped: escaped), range: start..<position)
    case UInt8(ascii: "t"):
      try scanLiteral("true")
      return JSONValue(kind: .bool(true), range: start..<position)
    case UInt8(ascii: "f"):
      try scanLiteral("false")
      return JSONValue(kind: .bool(false), range: start..<position)
    case UInt8(ascii: "n"):
      try scanLiteral("null")
      return JSONValue(kind: .null, range: start..<position)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let isInteger = try scanNumber()
      return JSONValue(kind: .number(isInteger: isInteger), range: start..<position)
    default:
      throw failure("unexpected character")
    }
  }

  /// Scans an object at the cursor; returns its members if `collecting`, else validates only.
  mutating func scanObject(depth: Int, collecting: Bool) throws(JSONSyntaxError) -> [JSONMember] {
    guard depth <= StrictJSON.maximumDepth else { throw failure("nesting deeper than \(StrictJSON.maximumDepth)") }
    try expect(UInt8(ascii: "{"), "expected an object")
    var members: [JSONMember] = []
    var names = MemberNames()
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      position += 1
      return members
    }
    while true {
      skipWhitespace()
      let nameStart = position
      guard peek() == UInt8(ascii: "\"") else { throw failure("expected a member name") }
      let escaped = try scanString()
      let nameRange = nameStart..<position
      let name = StrictJSON.decodeString(bytes, content: (nameStart + 1)..<(position - 1), escaped: escaped)
      guard names.insert(name) else {
        position = nameStart
        throw failure("duplicate member name")
      }
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "expected ':'")
      skipWhitespace()
      let value = try scanValue(depth: depth)
      if collecting { members.append(JSONMember(name: name, nameRange: nameRange, value: value)) }
      skipWhitespace()
      guard let separator = peek() else { throw failure("unexpected end of JSON") }
      position += 1
      if separator == UInt8(ascii: "}") { return members }
      guard separator == UInt8(ascii: ",") else {
        position -= 1
        throw failure("expected ',' or '}'")
      }
    }
  }

  /// Scans an array at the cursor; returns its elements if `collecting`, else validates only.
  mutating func scanArray(depth: Int, collecting: Bool) throws(JSONSyntaxError) -> [JSONValue] {
    guard depth <= StrictJSON.maximumDepth else { throw failure("nesting deeper than \(StrictJSON.maximumDepth)") }
    try expect(UInt8(ascii: "["), "expected an array")
    var elements: [JSONValue] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "]") {
      position += 1
      return elements
    }
    while true {
      skipWhitespace()
      let element = try scanValue(depth: depth)
      if collecting { elements.append(element) }
      skipWhitespace()
      guard let separator = peek() else { throw failure("unexpected end of JSON") }
      position += 1
      if separator == UInt8(ascii: "]") { return elements }
      guard separator == UInt8(ascii: ",") else {
        position -= 1
        throw failure("expected ',' or ']'")
      }
    }
  }

  mutating func scanLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
    let count = literal.utf8CodeUnitCount
    guard position + count <= end else { throw failure("invalid literal") }
    for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] {
      throw failure("invalid literal")
    }
    position += count
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; returns whether it had neither fraction nor exponent.
  mutating func scanNumber() throws(JSONSyntaxError) -> Bool {
    if peek() == UInt8(ascii: "-") { position += 1 }
    guard let first = peek(), isDigit(first) else { throw failure("invalid number") }
    position += 1
    if first != UInt8(ascii: "0") { skipDigits() }
    var isInteger = true
    if peek() == UInt8(ascii: ".") {
      position += 1
      guard let digit = peek(), isDigit(digit) else { throw failure("invalid number") }
      skipDigits()
      isInteger = false
    }
    if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
      position += 1
      if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
      guard let digit = peek(), isDigit(digit) else { throw failure("invalid number") }
      skipDigits()
      isInteger = false
    }
    return isInteger
  }

  private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  private mutating func skipDigits() {
    while let byte = peek(), isDigit(byte) { position += 1 }
  }

  /// Scans a string at the cursor (validating escapes, surrogate pairs and UTF-8); returns whether it had escapes.
  mutating func scanString() throws(JSONSyntaxError) -> Bool {
    try expect(UInt8(ascii: "\""), "expected a string")
    var escaped = false
    while true {
      guard let byte = peek() else { throw failure("unterminated string") }
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        return escaped
      case UInt8(ascii: "\\"):
        escaped = true
        try scanEscape()
      case 0x00..<0x20:
        throw failure("control character in string")
      case 0x20..<0x80:
        position += 1
      default:
        try scanUTF8Sequence()
      }
    }
  }

  private mutating func scanEscape() throws(JSONSyntaxError) {
    position += 1  // the backslash
    guard let escape = peek() else { throw failure("unterminated string") }
    switch escape {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
      UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      position += 1
    case UInt8(ascii: "u"):
      let unit = try scanHexQuad()
      if (0xDC00...0xDFFF).contains(unit) { throw failure("unpaired surrogate escape") }
      if (0xD800...0xDBFF).contains(unit) {
        guard position + 1 < end, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
        else { throw failure("unpaired surrogate escape") }
        position += 1
        let low = try scanHexQuad()
        guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate escape") }
      }
    default:
      throw failure("invalid escape")
    }
  }

  /// At a `u`: consumes it and four hex digits.
  private mutating func scanHexQuad() throws(JSONSyntaxError) -> UInt32 {
    position += 1
    guard position + 4 <= end else { throw failure("invalid \\u escape") }
    let value = StrictJSON.hexQuad(bytes, at: position)
    guard value != .max else { throw failure("invalid \\u escape") }
    position += 4
    return value
  }

  /// Validates one multi-byte UTF-8 sequence (no overlong forms, no surrogates, nothing above U+10FFFF).
  private mutating func scanUTF8Sequence() throws(JSONSyntaxError) {
    let lead = bytes[position]
    let count: Int
    var secondRange: ClosedRange<UInt8> = 0x80...0xBF
    switch lead {
    case 0xC2...0xDF: count = 2
    case 0xE0:
      count = 3
      secondRange = 0xA0...0xBF
    case 0xE1...0xEC, 0xEE...0xEF: count = 3
    case 0xED:
      count = 3
      secondRange = 0x80...0x9F
    case 0xF0:
      count = 4
      secondRange = 0x90...0xBF
    case 0xF1...0xF3: count = 4
    case 0xF4:
      count = 4
      secondRange = 0x80...0x8F
    default: throw failure("invalid UTF-8")
    }
    guard position + count <= end, secondRange.contains(bytes[position + 1]) else { throw failure("invalid UTF-8") }
    for offset in 2..<count where !(0x80...0xBF).contains(bytes[position + offset]) {
      throw failure("invalid UTF-8")
    }
    position += count
  }
}

/// The member names seen so far in one object: a short list scanned linearly (headers and claims have a
/// handful), switching to a set for large objects so a hostile object cannot make the check quadratic.
struct MemberNames {
  private var list: [String] = []
  private var set: Set<String>? = nil

  /// Adds `name`; false if it was already present.
  mutating func insert(_ name: String) -> Bool {
    if set != nil { return set!.insert(name).inserted }
    if list.contains(name) { return false }
    list.append(name)
    if list.count > 16 { set = Set(list) }
    return true
  }
}
