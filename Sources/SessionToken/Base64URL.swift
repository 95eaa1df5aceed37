/// Base64url without padding (RFC 7515 §2). Decoding is canonical: each byte string has exactly one accepted
/// encoding, so a token cannot be re-encoded into a different string that still verifies.
public enum Base64URL {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  /// Six-bit value of each byte, or 0xFF for bytes outside the alphabet (padding and whitespace included).
  private static let values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
    return table
  }()

  public static func encode(_ bytes: [UInt8]) -> String {
    let count = (bytes.count * 4 + 2) / 3
    return String(unsafeUninitializedCapacity: count) { output in
      var out = 0
      var index = 0
      while index + 3 <= bytes.count {
        let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        for shift in [18, 12, 6, 0] {
          output[out] = alphabet[Int(chunk >> UInt32(shift) & 0x3F)]
          out += 1
        }
        index += 3
      }
      let remaining = bytes.count - index
      if remaining > 0 {
        let chunk = UInt32(bytes[index]) << 16 | (remaining == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
        for shift in [18, 12, 6].prefix(remaining + 1) {
          output[out] = alphabet[Int(chunk >> UInt32(shift) & 0x3F)]
          out += 1
        }
      }
      return out
    }
  }

  /// The bytes `text` encodes, or nil unless `text` is the canonical unpadded base64url encoding of them.
  public static func decode(_ text: Substring) -> [UInt8]? {
    var text = text
    return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
  }

  static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    let count = text.count
    guard count % 4 != 1 else { return nil }
    let decodedCount = count * 3 / 4
    var valid = true
    // The table is bound once, outside the loop: reading the lazily built static per byte costs a
    // swift_once check and a bounds check each time (measured: most of decoding's time).
    let decoded = values.withUnsafeBufferPointer { table in
      [UInt8](unsafeUninitializedCapacity: decodedCount) { output, initialised in
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        var out = 0
        for byte in text {
          let value = table[Int(byte)]
          if value == 0xFF {
            valid = false
            break
          }
          accumulator = accumulator << 6 | UInt32(value)
          bits += 6
          if bits >= 8 {
            bits -= 8
            output[out] = UInt8(truncatingIfNeeded: accumulator >> bits)
            out += 1
            accumulator &= (1 << bits) - 1
          }
        }
        // The unused low bits of the last character must be zero, or several texts would decode alike.
        if accumulator != 0 { valid = false }
        initialised = valid ? out : 0
      }
    }
    return valid ? decoded : nil
  }
}
