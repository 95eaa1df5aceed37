// Fuzz target `json`: compiled into module SessionToken with Sources/SessionToken and fuzz/TokenKeys.swift,
// linked with OpenSSLCrypto (scripts/fuzz.sh). Everything that reads JSON in the token module reads it through
// StrictJSON/JSONScanner: token headers and payloads, custom claims, session data, JWKS documents.
//
// Input: JSON text (any bytes).
// Checks:
//   - StrictJSON.parse never traps or reads out of bounds (AddressSanitizer), and agrees with an independent
//     RFC 8259 acceptor written here (including its extra rules: no duplicate names, depth ≤ 64, valid UTF-8,
//     paired surrogate escapes);
//   - every value it locates re-scans on its own (parse(_:in:)) to the same kind; strings decode, and the
//     decoded text re-quoted by JSONText.quoted scans back to the same text; integers read by int64 agree
//     with Int64(text);
//   - members(ofObject:) and AccessTokenClaims(members:in:) run on every object;
//   - AccessTokenPayload: validateObject accepts exactly the objects, trims, and is idempotent;
//     customClaims(ofPayload:) is itself a valid object; build(claims:customJSON:) either refuses (invalid,
//     not an object, protected claim) or yields a payload whose claims are the session's and whose custom
//     claims are the input's;
//   - JWKSet(json:) never traps, and a set it accepts re-reads from its own `json` to the same kids;
//   - Base64URL round-trips the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  JSONFuzz.run(UnsafeBufferPointer(start: data, count: size))
  return 0
}

enum JSONFuzz {
  static let claims = AccessTokenClaims(
    subject: "user-1", expiresAt: 2_000_000_000, issuedAt: 1_700_000_000, sessionHandle: "h-1",
    refreshTokenHash1: "r1", parentRefreshTokenHash1: nil, antiCsrfToken: "csrf")

  static func run(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = UnsafeRawBufferPointer(input)
    let document = try? StrictJSON.parse(bytes)
    var reference = ReferenceJSON(bytes: Array(input))
    let accepted = reference.accepts()
    fuzzCheck(
      (document != nil) == accepted, "StrictJSON \(document != nil ? "accepts" : "refuses"), reference disagrees")

    if let document {
      switch document {
      case .object(let members):
        checkMembers(members, in: bytes)
        fuzzCheck((try? StrictJSON.members(ofObject: bytes)) == members, "members(ofObject:) differs from parse")
        _ = AccessTokenClaims(members: members, in: bytes)
      case .array(let elements):
        for element in elements { checkValue(element, in: bytes, depth: 1) }
        fuzzCheck((try? StrictJSON.members(ofObject: bytes)) == nil, "members(ofObject:) of an array")
      case .scalar(let value):
        checkValue(value, in: bytes, depth: 0)
      }
    } else {
      fuzzCheck((try? StrictJSON.members(ofObject: bytes)) == nil, "members(ofObject:) of invalid JSON")
    }

    checkPayloadFunctions(input, document: document)

    let text = String(decoding: input, as: UTF8.self)
    if let set = try? JWKSet(json: text) {
      let again = try? JWKSet(json: set.json)
      fuzzCheck(again.map { $0.keys.map(\.kid) == set.keys.map(\.kid) } ?? false, "JWKSet does not re-read its json")
    }

    let raw = Array(input)
    fuzzCheck(Base64URL.decode(Substring(Base64URL.encode(raw))) == raw, "Base64URL round trip")
  }

  static func checkMembers(_ members: [JSONMember], in bytes: UnsafeRawBufferPointer) {
    var names = Set<String>()
    for member in members {
      fuzzCheck(names.insert(member.name).inserted, "duplicate member \(member.name.debugDescription) accepted")
      let name = StrictJSON.decodeString(
        bytes, content: (member.nameRange.lowerBound + 1)..<(member.nameRange.upperBound - 1),
        escaped: bytes[member.nameRange].contains(UInt8(ascii: "\\")))
      fuzzCheck(name == member.name, "member name decodes differently")
      checkValue(member.value, in: bytes, depth: 1)
    }
  }

  /// A located value re-scans on its own to the same kind; strings and integers decode consistently.
  static func checkValue(_ value: JSONValue, in bytes: UnsafeRawBufferPointer, depth: Int) {
    guard let rescanned = try? StrictJSON.parse(bytes, in: value.range) else {
      return fuzzCheck(false, "a located value does not re-scan: \(value)")
    }
    switch (value.kind, rescanned) {
    case (.object, .object(let members)):
      if depth < 4 { checkMembers(members, in: bytes) }
    case (.array, .array(let elements)):
      if depth < 4 { for element in elements { checkValue(element, in: bytes, depth: depth + 1) } }
    case (_, .scalar(let scalar)):
      fuzzCheck(scalar == value, "re-scan of a scalar differs")
    default:
      fuzzCheck(false, "re-scan changed the kind of \(value)")
    }
    let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value.range]), as: UTF8.self)
    switch value.kind {
    case .string:
      guard let decoded = StrictJSON.string(value, in: bytes) else { return fuzzCheck(false, "string does not decode") }
      let quoted = Array(JSONText.quoted(decoded).utf8)
      let requoted = quoted.withUnsafeBytes { quotedBytes -> String? in
        guard case .scalar(let scalar) = try? StrictJSON.parse(quotedBytes) else { return nil }
        return StrictJSON.string(scalar, in: quotedBytes)
      }
      fuzzCheck(requoted == decoded, "JSONText.quoted does not round-trip \(decoded.debugDescription)")
    case .number(isInteger: true):
      fuzzCheck(StrictJSON.int64(value, in: bytes) == Int64(raw), "int64 of \(raw)")
    case .number(isInteger: false):
      fuzzCheck(StrictJSON.int64(value, in: bytes) == nil, "int64 of a non-integer \(raw)")
    case .bool(let flag):
      fuzzCheck(raw == (flag ? "true" : "false"), "bool \(raw)")
    case .null:
      fuzzCheck(raw == "null", "null \(raw)")
    case .object, .array:
      break
    }
  }

  static func checkPayloadFunctions(_ input: UnsafeBufferPointer<UInt8>, document: JSONDocument?) {
    // The String APIs see the text as the wire delivers it: protobuf strings are valid UTF-8.
    guard let text = String(validatingUTF8CodeUnits: input) else { return }
    let isObject = if case .object = document { true } else { false }

    let validated = try? AccessTokenPayload.validateObject(text)
    fuzzCheck(
      (validated != nil) == (isObject || text.isEmpty), "validateObject accepts \(validated != nil), object \(isObject)"
    )
    if let validated {
      fuzzCheck((try? AccessTokenPayload.validateObject(validated)) == validated, "validateObject is not idempotent")
      fuzzCheck(validated.first == "{" && validated.last == "}", "validateObject did not trim")
    }

    let custom = AccessTokenPayload.customClaims(ofPayload: text)
    fuzzCheck(
      (try? AccessTokenPayload.validateObject(custom)) == custom, "customClaims is not a clean object: \(custom)")

    do {
      let payload = try AccessTokenPayload.build(claims: claims, customJSON: text)
      fuzzCheck(isObject || text.isEmpty, "build accepted a non-object")
      let again = Array(payload.utf8).withUnsafeBytes { bytes -> AccessTokenClaims? in
        guard let members = try? StrictJSON.members(ofObject: bytes) else { return nil }
        return AccessTokenClaims(members: members, in: bytes)
      }
      fuzzCheck(again == claims, "build() payload does not carry the claims: \(payload)")
      fuzzCheck(
        AccessTokenPayload.customClaims(ofPayload: payload) == (text.isEmpty ? "{}" : custom),
        "build() changed the custom claims")
    } catch {
      switch error {
      case .protectedClaim(let name):
        fuzzCheck(AccessTokenPayload.protectedClaimNames.contains(name), "protected claim \(name) is not protected")
      case .invalidJSON, .notAnObject:
        fuzzCheck(!isObject, "build refused an object: \(error)")
      }
    }
  }
}

/// An RFC 8259 acceptor written independently of JSONScanner (a straightforward recursive descent over the
/// grammar), with StrictJSON's extra rules, used only as an oracle.
struct ReferenceJSON {
  let bytes: [UInt8]
  var index = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  mutating func accepts() -> Bool {
    skipSpace()
    guard value(depth: 0) else { return false }
    skipSpace()
    return index == bytes.count
  }

  private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func skipSpace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
  }

  private mutating func literal(_ text: String) -> Bool {
    let expected = Array(text.utf8)
    guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
      return false
    }
    index += expected.count
    return true
  }

  private mutating func value(depth: Int) -> Bool {
    switch current {
    case UInt8(ascii: "{"): return object(depth: depth + 1)
    case UInt8(ascii: "["): return array(depth: depth + 1)
    case UInt8(ascii: "\""): return string() != nil
    case UInt8(ascii: "t"): return literal("true")
    case UInt8(ascii: "f"): return literal("false")
    case UInt8(ascii: "n"): return literal("null")
    default: return number()
    }
  }

  private mutating func object(depth: Int) -> Bool {
    guard depth <= 64 else { return false }
    index += 1
    skipSpace()
    if current == UInt8(ascii: "}") {
      index += 1
      return true
    }
    var names: [String] = []
    while true {
      skipSpace()
      guard current == UInt8(ascii: "\""), let name = string() else { return false }
      // Names compare as Swift strings do (canonical equivalence), as the scanner's do.
      if names.contains(name) { return false }
      names.append(name)
      skipSpace()
      guard current == UInt8(ascii: ":") else { return false }
      index += 1
      skipSpace()
      guard value(depth: depth) else { return false }
      skipSpace()
      switch current {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "}"):
        index += 1
        return true
      default: return false
      }
    }
  }

  private mutating func array(depth: Int) -> Bool {
    guard depth <= 64 else { return false }
    index += 1
    skipSpace()
    if current == UInt8(ascii: "]") {
      index += 1
      return true
    }
    while true {
      skipSpace()
      guard value(depth: depth) else { return false }
      skipSpace()
      switch current {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "]"):
        index += 1
        return true
      default: return false
      }
    }
  }

  private mutating func number() -> Bool {
    let start = index
    if current == UInt8(ascii: "-") { index += 1 }
    func isDigit(_ byte: UInt8?) -> Bool { byte.map { (0x30...0x39).contains($0) } ?? false }
    guard isDigit(current) else { return false }
    if current == UInt8(ascii: "0") {
      index += 1
    } else {
      while isDigit(current) { index += 1 }
    }
    if current == UInt8(ascii: ".") {
      index += 1
      guard isDigit(current) else { return false }
      while isDigit(current) { index += 1 }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      index += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
      guard isDigit(current) else { return false }
      while isDigit(current) { index += 1 }
    }
    return index > start
  }

  /// The decoded string, or nil. Collects code units (UTF-16 for escapes) and decodes them at the end, so a
  /// surrogate pair must be two adjacent \u escapes and raw bytes must be valid UTF-8.
  private mutating func string() -> String? {
    index += 1
    var scalars = String.UnicodeScalarView()
    var raw: [UInt8] = []
    func flushRaw() -> Bool {
      guard !raw.isEmpty else { return true }
      guard let text = String(validatingUTF8CodeUnits: raw) else { return false }
      scalars.append(contentsOf: text.unicodeScalars)
      raw.removeAll()
      return true
    }
    while true {
      guard let byte = current else { return nil }
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard flushRaw() else { return nil }
        return String(scalars)
      case UInt8(ascii: "\\"):
        guard flushRaw(), let escape = current else { return nil }
        index += 1
        switch escape {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"):
          guard let unit = hex4() else { return nil }
          if (0xDC00...0xDFFF).contains(unit) { return nil }
          if (0xD800...0xDBFF).contains(unit) {
            guard literal("\\u"), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            scalars.append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!)
          } else {
            scalars.append(Unicode.Scalar(unit)!)
          }
        default: return nil
        }
      case 0x00..<0x20: return nil
      default: raw.append(byte)
      }
    }
  }

  private mutating func hex4() -> UInt32? {
    guard bytes.count - index >= 4 else { return nil }
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let digit = UInt32(String(UnicodeScalar(bytes[index])), radix: 16) else { return nil }
      value = value << 4 | digit
      index += 1
    }
    return value
  }
}

extension String {
  /// The text if `bytes` are valid UTF-8, else nil.
  init?<C: Collection>(validatingUTF8CodeUnits bytes: C) where C.Element == UInt8 {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var scalars = String.UnicodeScalarView()
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): scalars.append(scalar)
      case .emptyInput:
        self = String(scalars)
        return
      case .error: return nil
      }
    }
  }
}
