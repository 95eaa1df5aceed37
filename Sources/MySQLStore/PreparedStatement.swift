internal import CMariaDB

/// Owns one `MYSQL_STMT`, prepared once for one SQL text and reused; closed in `deinit`. Parameters are bound
/// per execution; result columns are bound once, to buffers this statement owns.
final class PreparedStatement {
  /// What one execution produced.
  struct Outcome {
    var affectedRows: Int
    var rows: [MySQLRow]
  }

  let sql: String
  private let pointer: UnsafeMutablePointer<MYSQL_STMT>
  /// Keeps the connection open for as long as this statement exists.
  private let handle: MySQLHandle
  private let parameterCount: Int
  private let results: ResultBindings?

  init(_ sql: String, on handle: MySQLHandle) throws {
    guard let pointer = mysql_stmt_init(handle.pointer) else { throw handle.lastError() }
    self.sql = sql
    self.pointer = pointer
    self.handle = handle
    // From here on `deinit` closes the statement, whatever fails below.
    let prepared = sql.withCString { mysql_stmt_prepare(pointer, $0, UInt(sql.utf8.count)) }
    guard prepared == 0 else {
      parameterCount = 0
      results = nil
      throw Self.error(of: pointer)
    }
    parameterCount = Int(mysql_stmt_param_count(pointer))
    if let metadata = mysql_stmt_result_metadata(pointer) {
      let bindings = ResultBindings(fieldTypes: ResultSet(owning: metadata).fieldTypes)
      results = bindings
      guard mysql_stmt_bind_result(pointer, bindings.binds) == 0 else { throw Self.error(of: pointer) }
    } else {
      results = nil
    }
  }

  deinit {
    mysql_stmt_close(pointer)
  }

  func execute(_ parameters: [MySQLValue]) throws -> Outcome {
    precondition(parameters.count == parameterCount, "\(sql): \(parameters.count) of \(parameterCount) parameters")
    let bound = ParameterBindings(parameters)
    if parameterCount > 0 {
      guard mysql_stmt_bind_param(pointer, bound.binds) == 0 else { throw Self.error(of: pointer) }
    }
    guard mysql_stmt_execute(pointer) == 0 else { throw Self.error(of: pointer) }
    var rows: [MySQLRow] = []
    if let results {
      // Buffer the whole (small) result client side, so the connection is free again right away.
      guard mysql_stmt_store_result(pointer) == 0 else { throw Self.error(of: pointer) }
      defer { mysql_stmt_free_result(pointer) }
      fetching: while true {
        switch mysql_stmt_fetch(pointer) {
        case 0, Self.dataTruncated: rows.append(try results.row(of: pointer))
        case Self.noData: break fetching
        default: throw Self.error(of: pointer)
        }
      }
    }
    let affected = mysql_stmt_affected_rows(pointer)
    // (my_ulonglong)-1 means "not applicable" (a SELECT).
    return Outcome(affectedRows: affected == UInt64.max ? 0 : Int(affected), rows: rows)
  }

  private static let noData: Int32 = 100  // MYSQL_NO_DATA
  private static let dataTruncated: Int32 = 101  // MYSQL_DATA_TRUNCATED

  fileprivate static func error(of pointer: UnsafeMutablePointer<MYSQL_STMT>) -> MariaDBError {
    MariaDBError(code: mysql_stmt_errno(pointer), message: String(cString: mysql_stmt_error(pointer)))
  }
}

/// Input buffers for one execution: `mysql_stmt_bind_param` keeps pointers to them until `execute` returns.
private final class ParameterBindings {
  let binds: UnsafeMutablePointer<MYSQL_BIND>
  private let count: Int
  private var buffers: [UnsafeMutableRawPointer] = []

  init(_ values: [MySQLValue]) {
    count = values.count
    binds = .allocate(capacity: max(count, 1))
    binds.initialize(repeating: MYSQL_BIND(), count: max(count, 1))
    for (index, value) in values.enumerated() {
      switch value {
      case .null:
        binds[index].buffer_type = MYSQL_TYPE_NULL
      case .int(let number):
        let buffer = allocate(MemoryLayout<Int64>.size)
        buffer.storeBytes(of: number, as: Int64.self)
        binds[index].buffer_type = MYSQL_TYPE_LONGLONG
        binds[index].buffer = buffer
      case .text(let text):
        bindBytes(Array(text.utf8), type: MYSQL_TYPE_STRING, at: index)
      case .bytes(let bytes):
        bindBytes(bytes, type: MYSQL_TYPE_BLOB, at: index)
      }
    }
  }

  deinit {
    for buffer in buffers { buffer.deallocate() }
    binds.deinitialize(count: max(count, 1))
    binds.deallocate()
  }

  private func bindBytes(_ bytes: [UInt8], type: enum_field_types, at index: Int) {
    // Never a null buffer, even for an empty value: the library would read that as "no data".
    let buffer = allocate(max(bytes.count, 1))
    bytes.withUnsafeBytes { source in
      // An empty array may have no base address; there is nothing to copy then.
      if let base = source.baseAddress, !source.isEmpty { buffer.copyMemory(from: base, byteCount: source.count) }
    }
    binds[index].buffer_type = type
    binds[index].buffer = buffer
    binds[index].buffer_length = UInt(bytes.count)
  }

  private func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 8)
    buffers.append(buffer)
    return buffer
  }
}

/// Output buffers bound once to a statement's result columns. Integer columns are fetched as BIGINT; every
/// other column as bytes into a buffer of `initialCapacity`, and a longer value is fetched again whole with
/// `mysql_stmt_fetch_column` once its real length is known.
private final class ResultBindings {
  static let initialCapacity = 256
  let binds: UnsafeMutablePointer<MYSQL_BIND>
  private let count: Int
  private let lengths: UnsafeMutablePointer<UInt>
  private let nulls: UnsafeMutablePointer<my_bool>
  private let errors: UnsafeMutablePointer<my_bool>
  private let buffers: [UnsafeMutableRawPointer]
  private let isInteger: [Bool]

  private static let integerTypes: [enum_field_types] = [
    MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_INT24, MYSQL_TYPE_LONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_YEAR,
  ]

  init(fieldTypes: [enum_field_types]) {
    count = fieldTypes.count
    let capacity = max(count, 1)
    binds = .allocate(capacity: capacity)
    binds.initialize(repeating: MYSQL_BIND(), count: capacity)
    lengths = .allocate(capacity: capacity)
    lengths.initialize(repeating: 0, count: capacity)
    nulls = .allocate(capacity: capacity)
    nulls.initialize(repeating: 0, count: capacity)
    errors = .allocate(capacity: capacity)
    errors.initialize(repeating: 0, count: capacity)
    isInteger = fieldTypes.map { Self.integerTypes.contains($0) }
    var buffers: [UnsafeMutableRawPointer] = []
    for index in 0..<count {
      let size = isInteger[index] ? MemoryLayout<Int64>.size : Self.initialCapacity
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
      buffers.append(buffer)
      binds[index].buffer_type = isInteger[index] ? MYSQL_TYPE_LONGLONG : MYSQL_TYPE_BLOB
      binds[index].buffer = buffer
      binds[index].buffer_length = UInt(size)
      binds[index].length = lengths + index
      binds[index].is_null = nulls + index
      binds[index].error = errors + index
    }
    self.buffers = buffers
  }

  deinit {
    for buffer in buffers { buffer.deallocate() }
    let capacity = max(count, 1)
    binds.deinitialize(count: capacity)
    binds.deallocate()
    lengths.deallocate()
    nulls.deallocate()
    errors.deallocate()
  }

  /// The row `mysql_stmt_fetch` just placed in the buffers.
  func row(of statement: UnsafeMutablePointer<MYSQL_STMT>) throws -> MySQLRow {
    var values: [MySQLValue] = []
    values.reserveCapacity(count)
    for index in 0..<count {
      if nulls[index] != 0 {
        values.append(.null)
      } else if isInteger[index] {
        values.append(.int(buffers[index].load(as: Int64.self)))
      } else {
        let length = Int(lengths[index])
        if length <= Self.initialCapacity {
          values.append(.bytes(Array(UnsafeRawBufferPointer(start: buffers[index], count: length))))
        } else {
          values.append(.bytes(try Self.fetchWhole(column: index, length: length, of: statement)))
        }
      }
    }
    return MySQLRow(values: values)
  }

  private static func fetchWhole(
    column: Int, length: Int, of statement: UnsafeMutablePointer<MYSQL_STMT>
  ) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: length)
    var fetchedLength: UInt = 0
    let status = bytes.withUnsafeMutableBytes { buffer in
      withUnsafeMutablePointer(to: &fetchedLength) { fetchedLengthPointer in
        var bind = MYSQL_BIND()
        bind.buffer_type = MYSQL_TYPE_BLOB
        bind.buffer = buffer.baseAddress
        bind.buffer_length = UInt(length)
        bind.length = fetchedLengthPointer
        return mysql_stmt_fetch_column(statement, &bind, UInt32(column), 0)
      }
    }
    guard status == 0 else { throw PreparedStatement.error(of: statement) }
    return Array(bytes.prefix(Int(fetchedLength)))
  }
}
