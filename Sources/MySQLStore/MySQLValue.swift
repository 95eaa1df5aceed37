import SessionStorage

/// A statement parameter or a result column. Results come back as `.int`, `.bytes` or `.null` only: every
/// integer column is fetched as BIGINT and every other column as its raw bytes.
enum MySQLValue: Sendable, Equatable {
  case null
  case int(Int64)
  case text(String)
  case bytes([UInt8])
}

/// One fetched row, with typed accessors that fail loudly when the schema and the code disagree.
struct MySQLRow: Sendable {
  var values: [MySQLValue]

  func int(_ column: Int) throws -> Int64 {
    guard let value = try optionalInt(column) else { throw Self.unexpected(column, "NULL", wanted: "an integer") }
    return value
  }

  func optionalInt(_ column: Int) throws -> Int64? {
    switch values[column] {
    case .null: return nil
    case .int(let value): return value
    // DECIMAL results (e.g. of an aggregate) arrive as text.
    case .bytes(let bytes):
      guard let value = Int64(String(decoding: bytes, as: UTF8.self)) else {
        throw Self.unexpected(column, "bytes", wanted: "an integer")
      }
      return value
    case .text(let text):
      guard let value = Int64(text) else { throw Self.unexpected(column, "text", wanted: "an integer") }
      return value
    }
  }

  func bool(_ column: Int) throws -> Bool { try int(column) != 0 }

  func string(_ column: Int) throws -> String {
    guard let value = try optionalString(column) else { throw Self.unexpected(column, "NULL", wanted: "text") }
    return value
  }

  func optionalString(_ column: Int) throws -> String? {
    switch values[column] {
    case .null: return nil
    case .text(let text): return text
    case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
    case .int(let value): return String(value)
    }
  }

  func bytes(_ column: Int) throws -> [UInt8] {
    switch values[column] {
    case .bytes(let bytes): return bytes
    case .text(let text): return Array(text.utf8)
    case .null: throw Self.unexpected(column, "NULL", wanted: "bytes")
    case .int: throw Self.unexpected(column, "an integer", wanted: "bytes")
    }
  }

  private static func unexpected(_ column: Int, _ found: String, wanted: String) -> StoreError {
    .failed("result column \(column) is \(found), expected \(wanted): does the table match this sidecar's schema?")
  }
}
