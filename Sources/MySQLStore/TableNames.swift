import SessionStorage

/// The six tables of one store, each name checked to be a plain identifier: names are the only thing ever
/// written into SQL text (values are always bound parameters), so this check is what keeps SQL injection out.
struct TableNames: Sendable, Equatable {
  let sessions: String
  let signingKeys: String
  let revocations: String
  let jobRuns: String
  let schema: String
  /// Claims on schema steps: the one sidecar whose row goes in applies the step.
  let migrationClaims: String

  init(refreshTokenTable: String, signingKeyTable: String) throws {
    sessions = try Self.checked(refreshTokenTable, setting: "mysql.tables.refreshTokens")
    signingKeys = try Self.checked(signingKeyTable, setting: "mysql.tables.signingKey")
    revocations = try Self.checked(refreshTokenTable + "_revocation", setting: "mysql.tables.refreshTokens")
    jobRuns = try Self.checked(refreshTokenTable + "_job_run", setting: "mysql.tables.refreshTokens")
    schema = try Self.checked(refreshTokenTable + "_schema", setting: "mysql.tables.refreshTokens")
    migrationClaims = try Self.checked(refreshTokenTable + "_migration", setting: "mysql.tables.refreshTokens")
    guard sessions != signingKeys, ![revocations, jobRuns, schema, migrationClaims].contains(signingKeys) else {
      throw StoreError.misconfigured(
        "mysql.tables.signingKey '\(signingKeyTable)' collides with a table named after mysql.tables.refreshTokens: "
          + "choose another name"
      )
    }
  }

  /// `^[A-Za-z0-9_]{1,64}$`: MySQL's identifier length limit, and no character that needs quoting.
  static func isValid(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    return (1...64).contains(bytes.count)
      && bytes.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
          || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
      }
  }

  private static func checked(_ name: String, setting: String) throws -> String {
    guard isValid(name) else {
      throw StoreError.misconfigured(
        "invalid table name \(String(reflecting: String(name.prefix(80)))) (from \(setting)): use 1-64 letters, digits or underscores, "
          + "leaving room for the _revocation suffix"
      )
    }
    return name
  }
}
