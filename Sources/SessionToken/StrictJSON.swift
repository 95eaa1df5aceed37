/// A strict RFC 8259 scanner for token headers, payloads, custom claims and JWKS: one value and nothing after
/// it, no duplicate member names at any depth (RFC 7515 §5.2 and RFC 8725 §3.11: parsers that keep the first
/// or the last duplicate disagree, which attackers exploit), valid UTF-8, valid escapes with paired
/// surrogates, and nesting at most `maximumDepth` deep. It locates values rather than building a tree, so the
/// verify path allocates little.
enum StrictJSON {
  static let maximumDepth = 64

  /// Scans all of `bytes` as one JSON value (whitespace around it allowed).
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONDocument {
    try parse(bytes, in: 0..<bytes.count)
  }

  /// Scans `range` of `bytes` as one JSON value; used to open a value found by an earlier scan.
  static func parse(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(JSONSyntaxError) -> JSONDocument {
    var scanner = JSONScanner(bytes: bytes, position: range.lowerBound, end: range.upperBound)
    scanner.skipWhitespace()
    let document: JSONDocument
    switch scanner.peek() {
    case UInt8(ascii: "{"): document = .object(try scanner.scanObject(depth: 1, collecting: true))
    case UInt8(ascii: "["): document = .array(try scanner.scanArray(depth: 1, collecting: true))
    default: document = .scalar(try scanner.scanValue(depth: 0))
    }
    scanner.skipWhitespace()
    guard scanner.position == scanner.end else { throw scanner.failure("trailing data") }
    return document
  }

  /// Scans `bytes` as one JSON object and returns its members.
  static func members(ofObject bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> [JSONMember] {
    guard case .object(let members) = try parse(bytes) else {
      throw JSONSyntaxError(problem: "not a JSON object", offset: 0)
    }
    return members
  }

  /// The decoded text of a string value found by a scan of `bytes`.
  static func string(_ value: JSONValue, in bytes: UnsafeRawBufferPointer) -> String? {
    guard case .string(let escaped) = value.kind else { return nil }
    return decodeString(bytes, content: (value.range.lowerBound + 1)..<(value.range.upperBound - 1), escaped: escaped)
  }

  /// The value of an integer found by a scan of `bytes`, if it fits in 64 bits.
  static func int64(_ value: JSONValue, in bytes: UnsafeRawBufferPointer) -> Int64? {
    guard case .number(isInteger: true) = value.kind else { return nil }
    var result: Int64 = 0
    var index = value.range.lowerBound
    let negative = bytes[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    while index < value.range.upperBound {
      let digit = Int64(bytes[index] &- UInt8(ascii: "0"))
      let (shifted, overflow1) = result.multipliedReportingOverflow(by: 10)
      let (next, overflow2) =
        negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
      guard !overflow1, !overflow2 else { return nil }
      result = next
      index += 1
    }
    return result
  }

  /// Decodes already-validated string content.
  static func decodeString(_ bytes: UnsafeRawBufferPointer, content: Range<Int>, escaped: Bool) -> String {
    guard escaped else {
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[content]), as: UTF8.self)
    }
    var utf8: [UInt8] = []
    utf8.reserveCapacity(content.count)
    var index = content.lowerBound
    while index < content.upperBound {
      let byte = bytes[index]
      guard byte == UInt8(ascii: "\\") else {
        utf8.append(byte)
        index += 1
        continue
      }
      let escape = bytes[index + 1]
      index += 2
      switch escape {
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = hexQuad(bytes, at: index)
        index += 4
        if (0xD800...0xDBFF).contains(scalar) {
          let low = hexQuad(bytes, at: index + 2)
          index += 6
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        utf8.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
      default: utf8.append(escape)  // \" \\ \/
      }
    }
    return String(decoding: utf8, as: UTF8.self)
  }

  /// The value of four hex digits at `index` (validated by the scan), or UInt32.max if they are not hex.
  static func hexQuad(_ bytes: UnsafeRawBufferPointer, at index: Int) -> UInt32 {
    guard index + 4 <= bytes.count else { return .max }
    var value: UInt32 = 0
    for offset in 0..<4 {
      let byte = bytes[index + offset]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: return .max
      }
      value = value << 4 | UInt32(digit)
    }
    return value
  }
}
